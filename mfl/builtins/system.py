"""System interface: files, environment, host names, processes, users, syslog, getopt."""
from .registry import planned, variable

D = "system"

planned("boolean access(string pathname, number mode)", domain=D,
        doc="access(2): can PATHNAME be accessed with MODE (R_OK, W_OK, X_OK, F_OK)?")
planned("string getenv(string name)", domain=D, doc="Value of environment variable NAME.")
planned("string gethostname(; boolean fqn)", domain=D,
        doc="Host name of this machine (fully qualified if FQN).")
planned("string getdomainname()", domain=D, doc="Domain name of this machine.")
planned("string uname(string format)", domain=D,
        doc="uname(2) data formatted by FORMAT (%s, %n, %r, %v, %m).")
planned("void unlink(string name)", domain=D, doc="Remove the file NAME.")
planned("number system(string str)", domain=D, doc="Run STR with /bin/sh; its exit status.")
planned("void sleep(number secs; number usec)", domain=D,
        doc="Sleep SECS seconds and USEC microseconds.")
planned("number umask(number mask)", domain=D, doc="Set the umask; returns the old one.")
planned("string getpwnam(string name)", domain=D,
        doc="passwd entry of user NAME, as a colon-separated line.")
planned("string getpwuid(number uid)", domain=D,
        doc="passwd entry of user UID, as a colon-separated line.")
planned("boolean mappwnam(string name)", domain=D, doc="True if user NAME exists.")
planned("boolean mappwuid(number uid)", domain=D, doc="True if user UID exists.")
planned("boolean validuser(string name)", domain=D,
        doc="True if NAME is a valid local account (through Mailutils auth).")
planned("void syslog(number priority, string text)", domain=D,
        doc="Log TEXT with syslog PRIORITY (facility|level).")
planned("string getopt(number argc, number argv, string ...)", domain=D,
        doc="Parse options of func main(...): argv is vaptr($1); option descriptions follow. "
            "Documented in the Run Mode chapter.")

variable("string optarg", domain=D, status="planned", default="",
         doc="getopt: argument of the last option.")
variable("number optind", domain=D, status="planned", default=0,
         doc="getopt: index of the next argument to scan.")
variable("number opterr", domain=D, status="planned",
         doc="getopt: print error messages when non-zero (uninitialized in mailfromd 8.15).")
variable("string optopt", domain=D, status="planned", default="",
         doc="getopt: the unknown option character.")
