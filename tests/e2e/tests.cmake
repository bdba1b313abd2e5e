# End-to-end tests against the kernel's real OOM killer (tests/e2e/README.md).
# They need root (memory cgroups), Prometheus and kubectl; each exits 77 (skipped) when it
# cannot run, and prints "SKIPPED: <binary> not built" for a stage whose binary is missing.
# RUN_SERIAL: they measure lead times on a 2-core machine and must not compete with each other.

find_program(OOMCAST_E2E_PYTHON3 NAMES python3 HINTS /usr/bin)
if(NOT OOMCAST_E2E_PYTHON3)
  message(STATUS "e2e tests: python3 not found, not registered")
  return()
endif()

set(_e2e_dir ${CMAKE_CURRENT_LIST_DIR})
get_filename_component(_e2e_standin
                       ${CMAKE_CURRENT_LIST_DIR}/../support/kube_standin/kube_standin.py ABSOLUTE)
set(_e2e_bins "")
foreach(_pair "predictor;oomcast-predictor" "adapter;oomcast-metrics-adapter"
              "controller;oomcast-controller")
  list(GET _pair 0 _flag)
  list(GET _pair 1 _target)
  if(TARGET ${_target})
    list(APPEND _e2e_bins --${_flag} $<TARGET_FILE:${_target}>)
  endif()
endforeach()

function(oomcast_add_e2e_test name scenario timeout)
  set(workdir ${CMAKE_CURRENT_BINARY_DIR}/e2e/${name})
  add_test(NAME ${name}
           COMMAND ${OOMCAST_E2E_PYTHON3} ${_e2e_dir}/run_e2e.py ${scenario}
                   --workdir ${workdir} ${_e2e_bins}
                   --standin ${_e2e_standin})
  set_tests_properties(${name} PROPERTIES LABELS "e2e" SKIP_RETURN_CODE 77 TIMEOUT ${timeout}
                       RUN_SERIAL TRUE)
endfunction()

# The harness on its own: cgroups, the OOM killer, exporter, Prometheus, fault proxy (~30 s).
oomcast_add_e2e_test(e2e_harness harness 120)
# Forecast before the kill: predictor, adapter through kubectl, controller scale-up (~5 min).
oomcast_add_e2e_test(e2e_oom_forecast forecast 480)
# Prometheus paused and killed, a corrupting proxy, wrk on the adapter (~4 min).
oomcast_add_e2e_test(e2e_faults faults 420)
