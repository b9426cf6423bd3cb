// Boost.URL compiled into the fuzz targets, instrumented like the code that parses URLs with it
// (config urls, endpoint events, request targets, origins).
#include <boost/url/src.hpp>
