// The serving certificate's expiry as a Prometheus metric, so that an alert warns before the
// aggregator starts rejecting the adapter (and every HPA on an external metric holds).
#pragma once

#include <string>

#include "oomcast/status.h"

namespace oomcast::metrics_adapter {

// notAfter of the first certificate (the leaf) in the PEM file at `cert_file`, in Unix seconds.
// kInvalidArgument naming the file when it cannot be read or holds no certificate.
StatusOr<double> CertificateNotAfter(const std::string& cert_file);

// Prometheus text for `cert_file`, read anew on each call (the server reloads the file when it
// changes, so this follows rotations):
//   oomcast_serving_certificate_expiry_timestamp_seconds <notAfter>
// Empty when the file cannot be read (logged at warn). Thread-safe.
std::string ServingCertificateMetrics(const std::string& cert_file);

}  // namespace oomcast::metrics_adapter
