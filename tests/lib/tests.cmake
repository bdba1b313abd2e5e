oomcast_add_unit_test(status_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/status_test.cc LIBS oomcast::lib)
oomcast_add_unit_test(units_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/units_test.cc LIBS oomcast::lib)
oomcast_add_unit_test(clock_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/clock_test.cc LIBS oomcast::lib)
oomcast_add_unit_test(http_server_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/http_server_test.cc LIBS oomcast::lib)
