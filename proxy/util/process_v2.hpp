#pragma once
// Boost.Process v2 as shipped with Boost 1.81: with BOOST_PROCESS_USE_STD_FS its config header
// names boost::optional and std traits without including them. Include them first.
#include <boost/optional.hpp>
#include <boost/type_traits.hpp>
#include <memory>
#include <type_traits>

#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/start_dir.hpp>
#include <boost/process/v2/stdio.hpp>
