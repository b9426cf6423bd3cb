// Boost.Process v2 compiled once for the whole program (BOOST_PROCESS_V2_SEPARATE_COMPILATION).
#include "util/process_v2.hpp"

#include <boost/process/v2/src.hpp>
