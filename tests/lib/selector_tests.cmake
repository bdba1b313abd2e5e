oomcast_add_unit_test(label_selector_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/label_selector_test.cc
                      LIBS oomcast::lib)
