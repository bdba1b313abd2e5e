# Checks of charts/oomcast, manifests/ and the Dockerfile (labels unit;chart: ctest -L chart).
# Each runs tests/chart/run.sh, which needs helm (.tools/bin or PATH), node with
# tests/chart/node_modules and promtool as each check requires; all come from scripts/setup.sh.
# A check whose tool is missing prints "SKIPPED: <why>" and exits 77, which CTest reports as
# skipped (SKIP_RETURN_CODE).
set(_oomcast_chart_run ${CMAKE_CURRENT_LIST_DIR}/run.sh)

# oomcast_add_chart_test(NAME ARGS...): run.sh ARGS as the CTest test NAME.
function(oomcast_add_chart_test name)
  add_test(NAME ${name} COMMAND bash ${_oomcast_chart_run} ${ARGN})
  set_tests_properties(${name} PROPERTIES
    LABELS "unit;chart"
    SKIP_RETURN_CODE 77
    TIMEOUT 180
    ENVIRONMENT "OOMCAST_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()

# helm lint --strict, and helm template with every object validated against the official
# schemas (kubernetes-models, @kubernetes-models/prometheus-operator, @kubernetes-models/cert-manager;
# unknown fields and kinds fail) and against the chart's secure-default policy: with default
# values, with every optional feature on, with a user's own serving certificate, and for an
# alerting-only install (standalone predictor, no adapter or controller).
foreach(_values default values-all-features.yaml values-tls-secret.yaml values-alerting-only.yaml)
  string(REGEX REPLACE "^values-|\\.yaml$" "" _suffix ${_values})
  string(REPLACE "-" "_" _suffix ${_suffix})
  oomcast_add_chart_test(chart_lint_${_suffix} lint ${_values})
  oomcast_add_chart_test(chart_template_${_suffix} template ${_values})
endforeach()

# promtool check rules + promtool test rules (tests/chart/rules_test.yaml) on the PrometheusRule.
oomcast_add_chart_test(chart_alert_rules rules)
# The dashboard JSON parses, uses only metrics oomcast exports or standard ones, valid PromQL.
oomcast_add_chart_test(chart_dashboard_metrics dashboard)
# The MemoryScaler CRD (charts/oomcast/files/crds/) and its examples against its openAPIV3Schema.
oomcast_add_chart_test(chart_crd_examples crd-examples)
# The HPA and MemoryScaler examples of the chart README against their schemas.
oomcast_add_chart_test(chart_readme_examples readme-examples)
# The chart-generated serving certificate: valid for the Service's names, trusted by the
# APIService caBundle, and kept across upgrades through lookup (helm --dry-run=server against
# tests/chart/fake_apiserver.py).
oomcast_add_chart_test(chart_cert_lookup cert-lookup)
# An existing v1beta1.external.metrics.k8s.io of another provider (KEDA's Helm release, one
# applied with kubectl, another namespace's oomcast) is refused with a message, unless taken over
# with pass-through; the taken-over one is kept on uninstall (lookup against fake_apiserver.py).
oomcast_add_chart_test(chart_apiservice_guard apiservice-guard)
# The CRD is a template (helm upgrade applies it), kept on uninstall, its spec as in files/crds/.
oomcast_add_chart_test(chart_crd_upgrade crd-upgrade)
# docs/install-next-to-keda.md: its ScaledObject validates against @kubernetes-models/keda and
# its exact Prometheus query, run by promtool over oomcast's exported series, returns the
# riskiest matching container's risk (and nothing when forecasts are gone).
oomcast_add_chart_test(chart_keda_query keda)
# Every leaf of values.yaml has a "# --" comment or a values.schema.json description.
oomcast_add_chart_test(chart_values_described values-described)
# config.canary (values-all-features.yaml) renders into the config file, and the metrics adapter
# and the predictor both accept it (the predictor's `canary` replay uses its tolerances).
if(TARGET oomcast-metrics-adapter)
  oomcast_add_chart_test(chart_canary_config canary-config $<TARGET_FILE:oomcast-predictor>
                         $<TARGET_FILE:oomcast-metrics-adapter>)
endif()
# manifests/oomcast.yaml matches the chart (generated certificate material masked).
oomcast_add_chart_test(chart_manifests_drift drift)
# The Dockerfile's build and runtime stages agree with scripts/setup.sh and the binaries' ldd.
oomcast_add_chart_test(chart_dockerfile dockerfile)
# validate.mjs rejects known-bad objects for the right reasons.
oomcast_add_chart_test(chart_validator_selftest validator-selftest)
# The real adapter binary: a serving certificate that expires during the test is reported
# (oomcast_serving_certificate_expiry_timestamp_seconds), refused once expired, and replaced by
# the renewed files without a restart; pass-through keeps forwarding (and /livez, the chart's
# pass-through readiness path, stays OK) while oomcast's own forecasts are missing.
if(TARGET oomcast-metrics-adapter)
  find_package(Python3 COMPONENTS Interpreter)
  add_test(NAME chart_adapter_lifecycle
           COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_LIST_DIR}/adapter_lifecycle_test.py
                   --adapter $<TARGET_FILE:oomcast-metrics-adapter>)
  set_tests_properties(chart_adapter_lifecycle PROPERTIES LABELS "integration;chart"
                       SKIP_RETURN_CODE 77 TIMEOUT 120)
endif()
