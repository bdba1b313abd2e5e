// KubeClient against the Kubernetes API stand-in: TLS + bearer token from a kubeconfig, status
// mapping, optimistic concurrency, streamed watches with bookmarks, 410 Gone, timeouts and
// transport failures.
#include "oomcast/kube_client.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "support/kube_standin/standin_process.h"

namespace oomcast {
namespace {

using nlohmann::json;
using testing::StandinProcess;

const char* kDeployment = R"({"apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"web","namespace":"shop"},
  "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
          "template":{"metadata":{"labels":{"app":"web"}},
                      "spec":{"containers":[{"name":"app","image":"nginx"}]}}}})";

std::unique_ptr<KubeClient> ClientFor(const StandinProcess& s) {
  auto config = LoadKubeconfig(s.kubeconfig());
  REQUIRE(config.ok());
  auto client = NewKubeClient(*config);
  REQUIRE(client.ok());
  return std::move(client).value();
}

TEST_CASE("kube client: TLS, token, CRUD and status mapping") {
  StandinProcess standin({"--token", "s3cret"});
  auto client = ClientFor(standin);
  auto seeded = client->Request("POST", "/_standin/objects", kDeployment);
  REQUIRE(seeded.ok());
  REQUIRE(seeded->status_code == 201);

  auto scale = client->Request("GET", "/apis/apps/v1/namespaces/shop/deployments/web/scale");
  REQUIRE(scale.ok());
  REQUIRE(scale->status_code == 200);
  REQUIRE(scale->headers.at("content-type") == "application/json");
  json s = json::parse(scale->body);
  CHECK(s["kind"] == "Scale");
  CHECK(s["spec"]["replicas"] == 2);
  CHECK(s["status"]["selector"] == "app=web");

  SECTION("write with the current resourceVersion succeeds, a stale one is a 409 Conflict") {
    s["spec"]["replicas"] = 3;
    auto ok =
        client->Request("PUT", "/apis/apps/v1/namespaces/shop/deployments/web/scale", s.dump());
    REQUIRE(ok.ok());
    CHECK(ok->status_code == 200);
    CHECK(KubeResponseStatus(*ok, "put").ok());
    s["spec"]["replicas"] = 4;  // Same (now stale) resourceVersion.
    auto stale =
        client->Request("PUT", "/apis/apps/v1/namespaces/shop/deployments/web/scale", s.dump());
    REQUIRE(stale.ok());
    CHECK(stale->status_code == 409);
    Status st = KubeResponseStatus(*stale, "scale shop/web");
    CHECK(st.code() == StatusCode::kAborted);
    CHECK(st.message().find("Conflict") != std::string::npos);
    CHECK(st.message().find("scale shop/web") == 0);
  }
  SECTION("not found and already exists") {
    auto missing = client->Request("GET", "/apis/apps/v1/namespaces/shop/deployments/nope");
    REQUIRE(missing.ok());
    CHECK(KubeResponseStatus(*missing, "get").code() == StatusCode::kNotFound);
    auto again = client->Request("POST", "/apis/apps/v1/namespaces/shop/deployments", kDeployment);
    REQUIRE(again.ok());
    CHECK(KubeResponseStatus(*again, "create").code() == StatusCode::kAlreadyExists);
  }
  SECTION("a wrong token is 401") {
    auto config = LoadKubeconfig(standin.kubeconfig());
    REQUIRE(config.ok());
    config->bearer_token = "wrong";
    auto bad = NewKubeClient(*config);
    REQUIRE(bad.ok());
    auto r = (*bad)->Request("GET", "/apis/apps/v1/namespaces/shop/deployments/web");
    REQUIRE(r.ok());
    CHECK(KubeResponseStatus(*r, "get").code() == StatusCode::kUnauthenticated);
  }
  SECTION("a server certificate not signed by the configured CA fails the handshake") {
    auto config = LoadKubeconfig(standin.kubeconfig());
    REQUIRE(config.ok());
    config->ca_file.clear();
    config->ca_pem.clear();  // System roots do not know the stand-in.
    auto bad = NewKubeClient(*config);
    REQUIRE(bad.ok());
    auto r = (*bad)->Request("GET", "/apis/apps/v1/namespaces/shop/deployments/web");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kUnavailable);
    config->insecure_skip_verify = true;
    auto insecure = NewKubeClient(*config);
    REQUIRE(insecure.ok());
    auto r2 = (*insecure)->Request("GET", "/apis/apps/v1/namespaces/shop/deployments/web");
    REQUIRE(r2.ok());
    CHECK(r2->status_code == 200);
  }
}

TEST_CASE("kube client: watch streams events and bookmarks, and reports 410 Gone") {
  StandinProcess standin({"--http", "--bookmark-interval", "0.2"});
  KubeRestConfig config;
  config.server = "http://127.0.0.1:" + std::to_string(standin.port());
  auto client_or = NewKubeClient(config);
  REQUIRE(client_or.ok());
  auto& client = *client_or;
  REQUIRE(client->Request("POST", "/_standin/objects", kDeployment)->status_code == 201);
  auto list = client->Request("GET", "/apis/apps/v1/namespaces/shop/deployments");
  REQUIRE(list.ok());
  json l = json::parse(list->body);
  std::string rv = l["metadata"]["resourceVersion"];
  REQUIRE(l["items"].size() == 1);

  SECTION("modifications arrive in order, then a bookmark; returning false ends the watch") {
    auto scale = json::parse(
        client->Request("GET", "/apis/apps/v1/namespaces/shop/deployments/web/scale")->body);
    scale["spec"]["replicas"] = 5;
    REQUIRE(
        client->Request("PUT", "/apis/apps/v1/namespaces/shop/deployments/web/scale", scale.dump())
            ->status_code == 200);
    std::vector<std::string> types;
    int replicas_seen = 0;
    auto start = std::chrono::steady_clock::now();
    Status st = client->Watch(
        "/apis/apps/v1/namespaces/shop/deployments?watch=true&"
        "resourceVersion=" +
            rv + "&allowWatchBookmarks=true",
        10, [&](const WatchEvent& ev) {
          types.push_back(ev.type);
          json o = json::parse(ev.object_json);
          if (ev.type == "MODIFIED") replicas_seen = o["spec"]["replicas"];
          return ev.type != "BOOKMARK";
        });
    CHECK(st.ok());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    REQUIRE(types.size() >= 2);
    CHECK(types.front() == "MODIFIED");
    CHECK(types.back() == "BOOKMARK");
    CHECK(replicas_seen == 5);
  }
  SECTION("the watch ends cleanly at the client's timeout") {
    auto start = std::chrono::steady_clock::now();
    Status st = client->Watch(
        "/apis/apps/v1/namespaces/shop/deployments?watch=true&"
        "resourceVersion=" +
            rv,
        0.5, [](const WatchEvent&) { return true; });
    CHECK(st.ok());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  }
  SECTION("a compacted resourceVersion is an ERROR event carrying Status 410 Expired") {
    REQUIRE(client->Request("POST", "/_standin/compact", "{}")->status_code == 200);
    std::vector<WatchEvent> events;
    Status st = client->Watch(
        "/apis/apps/v1/namespaces/shop/deployments?watch=true&"
        "resourceVersion=" +
            rv,
        5, [&](const WatchEvent& ev) {
          events.push_back(ev);
          return true;
        });
    CHECK(st.ok());
    REQUIRE(events.size() == 1);
    CHECK(events[0].type == "ERROR");
    json status = json::parse(events[0].object_json);
    CHECK(status["code"] == 410);
    CHECK(status["reason"] == "Expired");
  }
}

TEST_CASE("kube client: transport failures are retryable errors") {
  KubeRestConfig config;
  config.server = "http://127.0.0.1:1";  // Nothing listens on port 1.
  config.timeout_seconds = 2;
  auto client = NewKubeClient(config);
  REQUIRE(client.ok());
  auto r = (*client)->Request("GET", "/api/v1/namespaces");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().retryable());
  Status w = (*client)->Watch("/api/v1/pods?watch=true", 1, [](const WatchEvent&) { return true; });
  CHECK_FALSE(w.ok());
  CHECK(w.retryable());
}

TEST_CASE("kube client: bad configuration is rejected up front") {
  KubeRestConfig config;
  config.server = "ftp://example";
  CHECK(NewKubeClient(config).status().code() == StatusCode::kInvalidArgument);
  config.server = "https://127.0.0.1:6443";
  config.ca_file = "/nonexistent/ca.crt";
  auto r = NewKubeClient(config);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message().find("/nonexistent/ca.crt") != std::string::npos);
}

}  // namespace
}  // namespace oomcast
