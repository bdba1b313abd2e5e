# Kubernetes API client: kubeconfig parsing (pure) and the client against the API stand-in
# (tests/support/kube_standin, Python 3), loopback only.
oomcast_add_unit_test(kubeconfig_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kubeconfig_test.cc LIBS oomcast::lib)
oomcast_add_unit_test(kube_client_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/kube_client_test.cc LIBS oomcast::lib nlohmann_json::nlohmann_json)
