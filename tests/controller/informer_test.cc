// List-then-watch of MemoryScalers on the in-process API fake: initial list, spec changes
// notify, status-only updates do not, bookmarks advance the resourceVersion, 410 Gone asks for
// a relist (and Run relists by itself). Also the external-metrics helpers (RFC 3339, URL
// encoding). Over HTTP against the Python stand-in: informer_standin_test.cc.
#include "oomcast/controller/informer.h"

#include <catch2/catch.hpp>
#include <thread>

#include "controller/test_objects.h"
#include "oomcast/controller/forecast_source.h"
#include "oomcast/url.h"
#include "support/fake_clock.h"
#include "support/fake_kube_client.h"

namespace oomcast::controller {
namespace {

using nlohmann::json;
using oomcast::testing::FakeClock;
using oomcast::testing::FakeKubeClient;
using testing::NamedScaler;

TEST_CASE("informer: list, watch, notify on spec changes only, relist on 410") {
  FakeKubeClient kube;
  FakeClock clock;
  kube.Seed(NamedScaler("a", "one"));
  kube.Seed(NamedScaler("b", "two"));
  std::vector<std::string> changes;
  ScalerInformer informer(&kube, &clock, "",
                          [&](const std::string& ns, const std::string& name, bool deleted) {
                            changes.push_back(ns + "/" + name + (deleted ? " deleted" : ""));
                          });
  REQUIRE(informer.List().ok());
  CHECK(informer.synced());
  CHECK(informer.Snapshot().size() == 2);
  CHECK(changes == std::vector<std::string>{"a/one", "b/two"});
  changes.clear();
  const std::string rv0 = informer.resource_version();

  const std::string path = "/apis/oomcast.io/v1alpha1/namespaces/a/memoryscalers/one";
  json one = kube.Get(path);
  one["status"] = {{"currentReplicas", 2}};
  kube.Call("PUT", path + "/status", one);
  one = kube.Get(path);
  one["spec"]["maxReplicas"] = 7;
  kube.Call("PUT", path, one);
  kube.Call("DELETE", "/apis/oomcast.io/v1alpha1/namespaces/b/memoryscalers/two");
  std::atomic<bool> stop{false};
  REQUIRE(informer.WatchOnce(2, stop).ok());
  CHECK(changes == std::vector<std::string>{"a/one", "b/two deleted"});
  auto snap = informer.Snapshot();
  REQUIRE(snap.size() == 1);
  CHECK(json::parse(snap[0])["spec"]["maxReplicas"] == 7);
  CHECK(json::parse(snap[0])["status"]["currentReplicas"] == 2);
  CHECK(informer.resource_version() == kube.resource_version());  // The bookmark.
  CHECK(std::stoll(informer.resource_version()) > std::stoll(rv0));

  kube.Compact();  // The next watch from our resourceVersion is Gone.
  CHECK(informer.WatchOnce(2, stop).code() == StatusCode::kAborted);
  REQUIRE(informer.List().ok());
  CHECK(informer.WatchOnce(1, stop).ok());
}

TEST_CASE("informer: Run backs off on a failed list and relists after 410 Gone") {
  FakeKubeClient kube;
  FakeClock clock;
  kube.Seed(NamedScaler("a", "one"));
  kube.Script({"GET", "/memoryscalers", 503, "", "", 1, {}});  // The first list fails.
  kube.QueueWatchEvent("/apis/oomcast.io/v1alpha1/namespaces/a/memoryscalers",
                       {"ERROR", R"({"kind":"Status","code":410,"reason":"Expired"})"});
  std::atomic<bool> stop{false};
  ScalerInformer informer(&kube, &clock, "a", [](const std::string&, const std::string&, bool) {});
  std::thread run([&] { informer.Run(stop, 1); });
  while (informer.relists() < 1) std::this_thread::yield();
  stop = true;
  run.join();
  CHECK(informer.relists() == 1);
  CHECK(informer.synced());
  CHECK(informer.Snapshot().size() == 1);
  CHECK(clock.total_slept() == 0.5);  // One back-off, on the fake clock.
}

TEST_CASE("external metrics helpers: RFC 3339 and URL encoding") {
  CHECK(*ParseRfc3339("2026-01-01T00:00:00Z") == 1767225600.0);
  CHECK(*ParseRfc3339("2026-01-01T00:00:01.5Z") == Approx(1767225601.5));
  CHECK(*ParseRfc3339("2026-01-01T02:00:00+02:00") == 1767225600.0);
  CHECK_FALSE(ParseRfc3339("yesterday").ok());
  CHECK(PercentEncode("app=web,oomcast.io/aggregate in (max)") ==
        "app%3Dweb%2Coomcast.io%2Faggregate%20in%20%28max%29");
}

}  // namespace
}  // namespace oomcast::controller
