// Asio compiled once for the whole program (BOOST_ASIO_SEPARATE_COMPILATION), TLS included.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
