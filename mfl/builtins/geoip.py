"""GeoIP2 lookups."""
from .registry import planned

D = "geoip"

planned("void geoip2_open(string filename)", domain=D, doc="Open the GeoIP2 database FILENAME.")
planned("string geoip2_dbname()", domain=D, doc="Name of the open GeoIP2 database.")
planned("string geoip2_get(string ip, string path)", domain=D,
        doc="Value at the lookup PATH (e.g. country.iso_code) for IP.")
planned("string geoip2_get_json(string ip; number indent)", domain=D,
        doc="The whole GeoIP2 record of IP as JSON.")
