"""I/O built-ins: files, pipes, sockets, spawned programs and filter chains."""
from .registry import planned, variable

D = "io"

planned("number open(string name)", domain=D,
        doc="Open a file, pipe ('|cmd', '<cmd'...) or socket ('@url'); returns a descriptor.")
planned("number spawn(string cmd; number in, number out, number err)", domain=D,
        doc="Run CMD with the given descriptors as its stdin/stdout/stderr.")
planned("void close(number rd)", domain=D, doc="Close descriptor RD.")
planned("void shutdown(number rd, number how)", domain=D,
        doc="Shut down reading, writing or both on descriptor RD.")
planned("number tempfile(; string tmpdir)", domain=D,
        doc="Open a new anonymous temporary file for reading and writing.")
planned("void rewind(number rd)", domain=D, doc="Seek descriptor RD back to its start.")
planned("number copy(number dst, number src)", domain=D,
        doc="Copy everything from SRC to DST; returns the byte count.")
planned("void write(number rd, string str; number size)", domain=D,
        doc="Write STR (or its first SIZE bytes) to RD.")
planned("void write_body(number rd, pointer bp, number size)", domain=D, handlers=("body",),
        doc="Write SIZE bytes of the body chunk BP to RD.")
planned("string read(number rd, number n)", domain=D, doc="Read N bytes from RD.")
planned("string getdelim(number rd, string delim)", domain=D,
        doc="Read from RD up to and including DELIM.")
planned("string getline(number rd)", domain=D,
        doc="Read one line (up to the descriptor's delimiter) from RD.")
planned("void fd_set_delimiter(number fd, string delim)", domain=D,
        doc="Set the line delimiter used by getline on FD.")
planned("string fd_delimiter(number fd, string delim)", domain=D,
        doc="The line delimiter of FD.  mailfromd 8.15 requires a second (unused) "
            "argument, although the manual documents one.")
planned("void setbuf(number fd; number type, number size)", domain=D,
        doc="Set buffering type and size of FD.")
planned("number getbuftype(number fd)", domain=D, doc="Buffering type of FD.")
planned("number getbufsize(number fd)", domain=D, doc="Buffer size of FD.")
planned("number get_output(number fd)", domain=D,
        doc="Not in the 8.15 manual (found in the program); takes a descriptor and "
            "returns a number (-1 for ordinary files and spawned commands).")
planned("string filter_string(string input, string filter_pipe)", domain=D,
        doc="Pass INPUT through the Mailutils filter chain FILTER_PIPE.")
planned("void filter_fd(number src_fd, number dst_fd, string filter_pipe)", domain=D,
        doc="Copy SRC_FD to DST_FD through the filter chain FILTER_PIPE.")

variable("number io_buffering", domain=D, status="planned", default=0,
         doc="Default buffering type for new descriptors (0: none, 1: full, 2: line).")
variable("number io_buffer_size", domain=D, status="planned", default=4096,
         doc="Default buffer size for new descriptors (the page size).")
