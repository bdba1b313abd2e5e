# The MemoryCanary controller on the in-process API fake.
oomcast_add_unit_test(controller_canary_reconciler_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/canary_reconciler_test.cc LIBS oomcast::controller oomcast_fake_kube)
