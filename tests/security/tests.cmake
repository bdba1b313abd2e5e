# The hostile-client suite (label security): the real adapter binary attacked over loopback as
# a stranger would (malformed bytes, floods, forged identities, oversized and slow requests,
# TLS versions and ciphers). About a minute. SKIPPED (77) without the openssl CLI.
find_package(Python3 COMPONENTS Interpreter)
if(TARGET oomcast-metrics-adapter AND Python3_Interpreter_FOUND)
  add_test(NAME security_hostile_clients
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/hostile_client_test.py
                   --adapter $<TARGET_FILE:oomcast-metrics-adapter>)
  set_tests_properties(security_hostile_clients PROPERTIES LABELS security TIMEOUT 600
                       SKIP_RETURN_CODE 77)
endif()
