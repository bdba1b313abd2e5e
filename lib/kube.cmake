# The Kubernetes API client (Boost.Beast + OpenSSL) and its connection settings (kubeconfig,
# in-cluster service account), and the list + watch informer on it.
target_sources(oomcast_lib PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/src/kube_client.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/kubeconfig.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/kube_informer.cc)
