// The accept loop every oomcast server uses (lib's ops server, the adapter's HTTPS server):
// a connection limit and back-off on accept errors. This header exists to wrap Boost.Asio.
//
// - At most `max_connections` connections are open at once. At the limit the loop stops
//   calling accept; further clients wait in the kernel's listen backlog and are accepted as
//   soon as a connection closes (no busy loop, no accepted-then-dropped sockets).
// - An accept error (EMFILE / ENFILE when file descriptors run out, ENOBUFS, ENOMEM, ...) pauses
//   accepting for a back-off that doubles from 10 ms to 1 s and resets after a success, so a
//   process out of descriptors does not spin; the error is logged at most once per second.
#pragma once

#include <algorithm>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "oomcast/log.h"

namespace oomcast {

class AcceptLoop {
 public:
  // Keeps one connection slot taken while any copy is alive: hand it to the connection's
  // session and drop it when the connection closes.
  using Slot = std::shared_ptr<void>;
  // Called on the I/O context with each accepted socket (on its own strand) and its slot.
  using OnAccept = std::function<void(boost::asio::ip::tcp::socket, Slot)>;

  // `acceptor` must be open and listening and outlive the loop; `name` labels log lines.
  AcceptLoop(boost::asio::io_context& ioc, boost::asio::ip::tcp::acceptor& acceptor,
             int max_connections, std::string name, OnAccept on_accept)
      : state_(std::make_shared<State>(ioc, acceptor, std::max(1, max_connections), std::move(name),
                                       std::move(on_accept))) {}
  ~AcceptLoop() { Stop(); }
  AcceptLoop(const AcceptLoop&) = delete;
  AcceptLoop& operator=(const AcceptLoop&) = delete;

  void Start() { State::Accept(state_); }
  // No further accepts or resumptions; slots released later touch nothing but shared state.
  // Call before the io_context stops. Idempotent.
  void Stop() {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stopped = true;
    state_->timer.cancel();
  }
  // Connections open now.
  int active() const { return state_->active.load(); }
  // Accept errors seen (each paused the loop for a back-off).
  int accept_errors() const { return state_->errors.load(); }

 private:
  struct State {
    State(boost::asio::io_context& i, boost::asio::ip::tcp::acceptor& a, int max, std::string n,
          OnAccept cb)
        : ioc(i),
          acceptor(a),
          timer(i),
          max_connections(max),
          name(std::move(n)),
          on_accept(std::move(cb)) {}
    boost::asio::io_context& ioc;
    boost::asio::ip::tcp::acceptor& acceptor;
    boost::asio::steady_timer timer;
    const int max_connections;
    const std::string name;
    OnAccept on_accept;
    std::atomic<int> active{0};
    std::atomic<int> errors{0};
    std::mutex mu;
    bool stopped = false;  // Guarded by mu.
    bool paused = false;   // At the connection limit, waiting for a slot. Guarded by mu.
    std::chrono::milliseconds backoff{0};
    std::chrono::steady_clock::time_point last_log{};

    static void Accept(const std::shared_ptr<State>& s) {
      {
        std::lock_guard<std::mutex> lock(s->mu);
        if (s->stopped) return;
        if (s->active.load() >= s->max_connections) {
          s->paused = true;
          return;
        }
      }
      s->acceptor.async_accept(
          boost::asio::make_strand(s->ioc),
          [s](boost::system::error_code ec, boost::asio::ip::tcp::socket socket) {
            {
              std::lock_guard<std::mutex> lock(s->mu);
              if (s->stopped) return;
            }
            if (ec) return OnError(s, ec);
            s->backoff = std::chrono::milliseconds(0);
            s->active++;
            std::weak_ptr<State> weak = s;
            Slot slot(nullptr, [weak](void*) {
              if (auto st = weak.lock()) Release(st);
            });
            s->on_accept(std::move(socket), std::move(slot));
            Accept(s);
          });
    }

    static void Release(const std::shared_ptr<State>& s) {
      s->active--;
      std::lock_guard<std::mutex> lock(s->mu);
      if (s->stopped || !s->paused) return;
      s->paused = false;
      boost::asio::post(s->ioc, [s] { Accept(s); });
    }

    static void OnError(const std::shared_ptr<State>& s, boost::system::error_code ec) {
      s->errors++;
      s->backoff = std::clamp(s->backoff * 2, std::chrono::milliseconds(10),
                              std::chrono::milliseconds(1000));
      const auto now = std::chrono::steady_clock::now();
      if (now - s->last_log >= std::chrono::seconds(1)) {
        s->last_log = now;
        LogWarn("accept failed; backing off", {{"server", s->name},
                                               {"err", ec.message()},
                                               {"backoff_ms", std::to_string(s->backoff.count())},
                                               {"connections", std::to_string(s->active.load())}});
      }
      std::lock_guard<std::mutex> lock(s->mu);
      if (s->stopped) return;
      s->timer.expires_after(s->backoff);
      s->timer.async_wait([s](boost::system::error_code wait_ec) {
        if (!wait_ec) Accept(s);
      });
    }
  };
  std::shared_ptr<State> state_;
};

}  // namespace oomcast
