// Leader election against the API stand-in's real Lease objects, with a FakeClock: acquire,
// renew, no take-over before expiry (measured on the candidate's own clock), take-over after
// expiry with leaseTransitions bumped, release hand-over, renew deadline. Integration (a
// subprocess; writes schema-validated); the unit version is leader_election_test.cc.
#include <catch2/catch.hpp>

#include "controller/standin_fixture.h"
#include "controller/test_objects.h"
#include "oomcast/controller/leader_election.h"

namespace oomcast::controller {
namespace {

using oomcast::testing::StandinFixture;
using testing::kLeasePath;
using testing::LeaseConfig;

TEST_CASE("leader election: acquire, renew, expire, take over, release") {
  StandinFixture fx;
  LeaderElector a(fx.client(), fx.clock(), LeaseConfig("a"));
  LeaderElector b(fx.client(), fx.clock(), LeaseConfig("b"));

  REQUIRE(a.TryAcquireOrRenew());
  CHECK(a.IsLeader());
  auto lease = fx.Get(kLeasePath);
  CHECK(lease["spec"]["holderIdentity"] == "a");
  CHECK(lease["spec"]["leaseDurationSeconds"] == 15);
  CHECK(lease["spec"]["leaseTransitions"] == 0);
  CHECK_FALSE(b.TryAcquireOrRenew());  // b first sees the record now.
  CHECK_FALSE(b.IsLeader());

  // a renews every retry period: b never takes over.
  for (int i = 0; i < 20; ++i) {
    fx.clock()->Advance(2);
    REQUIRE(a.TryAcquireOrRenew());
    REQUIRE_FALSE(b.TryAcquireOrRenew());
  }
  std::string renewed = fx.Get(kLeasePath)["spec"]["renewTime"];
  CHECK(renewed != std::string(lease["spec"]["renewTime"]));

  // a stops renewing (killed). b waits a full lease duration on its own clock.
  fx.clock()->Advance(14);
  CHECK_FALSE(b.TryAcquireOrRenew());
  CHECK_FALSE(a.IsLeader());  // 14 s since a's last renew > renew deadline of 10 s.
  fx.clock()->Advance(1.5);
  REQUIRE(b.TryAcquireOrRenew());
  lease = fx.Get(kLeasePath);
  CHECK(lease["spec"]["holderIdentity"] == "b");
  CHECK(lease["spec"]["leaseTransitions"] == 1);

  // a comes back: it sees b's fresh record and does not act.
  CHECK_FALSE(a.TryAcquireOrRenew());
  CHECK_FALSE(a.IsLeader());

  // b releases on shutdown: a takes over at once.
  REQUIRE(b.Release().ok());
  CHECK(fx.Get(kLeasePath)["spec"]["holderIdentity"] == "");
  CHECK_FALSE(b.IsLeader());
  fx.clock()->Advance(2);
  REQUIRE(a.TryAcquireOrRenew());
  lease = fx.Get(kLeasePath);
  CHECK(lease["spec"]["holderIdentity"] == "a");
  CHECK(lease["spec"]["leaseTransitions"] == 2);

  bool skipped = false;
  std::string out = fx.ValidateWrites(&skipped);
  INFO(out);
  CHECK(out.empty());
}

TEST_CASE("leader election: a conflicting update means not leader this round") {
  StandinFixture fx;
  LeaderElector a(fx.client(), fx.clock(), LeaseConfig("a"));
  REQUIRE(a.TryAcquireOrRenew());
  fx.Call("POST", "/_standin/race", {{"path", kLeasePath}, {"count", 1}});
  fx.clock()->Advance(2);
  // The renew PUT loses the race (409); a stays leader only within its renew deadline.
  CHECK(a.TryAcquireOrRenew());
  CHECK(fx.WritesTo("leases/oomcast-controller", "PUT").back()["code"] == 409);
  fx.clock()->Advance(2);
  CHECK(a.TryAcquireOrRenew());
  CHECK(fx.WritesTo("leases/oomcast-controller", "PUT").back()["code"] == 200);
}

}  // namespace
}  // namespace oomcast::controller
