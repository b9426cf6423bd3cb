// Boost.JSON compiled into the fuzz target, so the parser is instrumented like the code under test
// (linking the prebuilt libboost_json would leave it uninstrumented and coverage flat).
#include <boost/json/src.hpp>
