#include "oomcast/metrics_adapter/certificate_metrics.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <ctime>
#include <memory>

#include "oomcast/log.h"

namespace oomcast::metrics_adapter {

StatusOr<double> CertificateNotAfter(const std::string& cert_file) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(cert_file.c_str(), "r"), BIO_free);
  if (!bio) return InvalidArgumentError("serving certificate " + cert_file + ": cannot be read");
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
  if (!cert)
    return InvalidArgumentError("serving certificate " + cert_file + ": no PEM certificate");
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) != 1) {
    return InvalidArgumentError("serving certificate " + cert_file + ": bad notAfter");
  }
  return static_cast<double>(timegm(&tm));
}

std::string ServingCertificateMetrics(const std::string& cert_file) {
  auto not_after = CertificateNotAfter(cert_file);
  if (!not_after.ok()) {
    LogWarn("cannot report the serving certificate's expiry",
            {{"err", not_after.status().ToString()}});
    return "";
  }
  char line[64];
  std::snprintf(line, sizeof line, "%.0f\n", *not_after);
  return "# HELP oomcast_serving_certificate_expiry_timestamp_seconds notAfter of the adapter's "
         "serving certificate (Unix seconds).\n"
         "# TYPE oomcast_serving_certificate_expiry_timestamp_seconds gauge\n"
         "oomcast_serving_certificate_expiry_timestamp_seconds " +
         std::string(line);
}

}  // namespace oomcast::metrics_adapter
