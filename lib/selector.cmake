# Label selectors (oomcast/label_selector.h), owned by the metrics-adapter work stream.
target_sources(oomcast_lib PRIVATE ${CMAKE_CURRENT_LIST_DIR}/src/label_selector.cc)
