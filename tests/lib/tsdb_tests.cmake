# Tests of the HTTP client, the URL module and the Prometheus API client (lib/tsdb.cmake).
oomcast_add_unit_test(url_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/url_test.cc LIBS oomcast::lib)
oomcast_add_unit_test(prometheus_decode_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/prometheus_decode_test.cc
  LIBS oomcast::lib)
oomcast_add_unit_test(prometheus_client_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/prometheus_client_test.cc
  LIBS oomcast::lib)
# Loopback HTTP/HTTPS server inside the test; needs Boost.Asio and OpenSSL directly.
oomcast_add_unit_test(http_client_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_client_test.cc
  LIBS oomcast::lib Boost::system OpenSSL::SSL OpenSSL::Crypto)
