// A small HTTP/1.1 server (Boost.Beast) for /healthz, /readyz and /metrics. One thread; each
// connection is read with a 10 s deadline.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "oomcast/status.h"

namespace oomcast::controller {

struct HealthHandlers {
  std::function<bool()> healthy;         // /healthz: 200 "ok" or 500.
  std::function<bool()> ready;           // /readyz: 200 "ok" or 503.
  std::function<std::string()> metrics;  // /metrics: Prometheus text format.
};

// Thread-safe Start/Stop.
class HealthServer {
 public:
  explicit HealthServer(HealthHandlers handlers);
  ~HealthServer();
  // Binds `listen_address` ("host:port"; port 0 picks one) and serves on a thread.
  // kInvalidArgument on a bad address, kUnavailable when the port cannot be bound.
  Status Start(const std::string& listen_address);
  void Stop();
  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace oomcast::controller
