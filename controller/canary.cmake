# The MemoryCanary controller (controller/include/oomcast/controller/canary.h).
target_sources(oomcast_controller PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/src/canary_plan.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/canary_reconciler.cc)
