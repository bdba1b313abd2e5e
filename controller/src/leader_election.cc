#include "oomcast/controller/leader_election.h"

#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "oomcast/log.h"

namespace oomcast::controller {

using nlohmann::json;

std::string FormatMicroTime(double t) {
  time_t secs = static_cast<time_t>(std::floor(t));
  int micros = static_cast<int>(std::lround((t - std::floor(t)) * 1e6));
  if (micros >= 1000000) {
    ++secs;
    micros -= 1000000;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
  return buf;
}

LeaderElector::LeaderElector(KubeClient* client, Clock* clock, LeaderElectionConfig config)
    : client_(client), clock_(clock), config_(std::move(config)) {}

std::string LeaderElector::LeasePath(bool collection) const {
  std::string p = "/apis/coordination.k8s.io/v1/namespaces/" + config_.namespace_name + "/leases";
  return collection ? p : p + "/" + config_.lease_name;
}

bool LeaderElector::TryAcquireOrRenew() {
  std::lock_guard<std::mutex> lock(mu_);
  const double now = clock_->NowUnixSeconds();
  const int duration = static_cast<int>(std::ceil(config_.lease_duration_seconds));
  auto got = client_->Request("GET", LeasePath(false));
  if (!got.ok()) {
    LogWarn("leader election: cannot read lease", {{"err", got.status().ToString()}});
    return leader_ = leader_ && now - last_renew_ < config_.renew_deadline_seconds;
  }
  if (got->status_code == 404) {
    json lease = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", config_.lease_name}, {"namespace", config_.namespace_name}}},
        {"spec",
         {{"holderIdentity", config_.identity},
          {"leaseDurationSeconds", duration},
          {"acquireTime", FormatMicroTime(now)},
          {"renewTime", FormatMicroTime(now)},
          {"leaseTransitions", 0}}}};
    auto created = client_->Request("POST", LeasePath(true), lease.dump());
    if (created.ok() && created->status_code == 201) {
      LogInfo("leader election: acquired new lease",
              {{"lease", config_.namespace_name + "/" + config_.lease_name},
               {"identity", config_.identity}});
      leader_ = true;
      last_renew_ = now;
      return true;
    }
    return leader_ = false;
  }
  Status st = KubeResponseStatus(*got, "get lease");
  if (!st.ok()) {
    LogWarn("leader election: cannot read lease", {{"err", st.ToString()}});
    return leader_ = leader_ && now - last_renew_ < config_.renew_deadline_seconds;
  }
  json lease = json::parse(got->body, nullptr, false);
  if (lease.is_discarded() || !lease.is_object()) return leader_ = false;
  json& spec = lease["spec"];
  if (!spec.is_object()) spec = json::object();
  std::string holder = spec.value("holderIdentity", "");
  std::string record = holder + "|" + spec.value("renewTime", "") + "|" +
                       std::to_string(spec.value("leaseTransitions", 0));
  if (record != observed_record_) {
    observed_record_ = record;
    observed_time_ = now;
  }
  int held_for = spec.value("leaseDurationSeconds", duration);
  const bool mine = holder == config_.identity;
  if (!mine && !holder.empty() && observed_time_ + held_for > now) {
    if (leader_) LogWarn("leader election: lost the lease", {{"holder", holder}});
    return leader_ = false;  // Held by another, not expired on our clock.
  }
  if (!mine) {
    spec["acquireTime"] = FormatMicroTime(now);
    spec["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
  }
  spec["holderIdentity"] = config_.identity;
  spec["leaseDurationSeconds"] = duration;
  spec["renewTime"] = FormatMicroTime(now);
  auto put = client_->Request("PUT", LeasePath(false), lease.dump());
  if (!put.ok() || put->status_code != 200) {
    std::string err =
        put.ok() ? KubeResponseStatus(*put, "update lease").ToString() : put.status().ToString();
    LogWarn("leader election: cannot update lease", {{"err", err}});
    return leader_ = leader_ && now - last_renew_ < config_.renew_deadline_seconds && mine;
  }
  if (!mine) {
    LogInfo("leader election: took over the lease",
            {{"lease", config_.namespace_name + "/" + config_.lease_name},
             {"identity", config_.identity},
             {"previous", holder}});
  }
  json updated = json::parse(put->body, nullptr, false);
  if (!updated.is_discarded() && updated.contains("spec")) {
    const json& us = updated["spec"];
    observed_record_ = us.value("holderIdentity", "") + "|" + us.value("renewTime", "") + "|" +
                       std::to_string(us.value("leaseTransitions", 0));
    observed_time_ = now;
  }
  leader_ = true;
  last_renew_ = now;
  return true;
}

bool LeaderElector::IsLeader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leader_ && clock_->NowUnixSeconds() - last_renew_ < config_.renew_deadline_seconds;
}

Status LeaderElector::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!leader_) return Status::Ok();
  leader_ = false;
  auto got = client_->Request("GET", LeasePath(false));
  if (!got.ok()) return got.status();
  OOMCAST_RETURN_IF_ERROR(KubeResponseStatus(*got, "get lease"));
  json lease = json::parse(got->body, nullptr, false);
  if (lease.is_discarded() || lease["spec"].value("holderIdentity", "") != config_.identity) {
    return Status::Ok();
  }
  const double now = clock_->NowUnixSeconds();
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = FormatMicroTime(now);
  auto put = client_->Request("PUT", LeasePath(false), lease.dump());
  if (!put.ok()) return put.status();
  OOMCAST_RETURN_IF_ERROR(KubeResponseStatus(*put, "release lease"));
  LogInfo("leader election: released the lease", {{"identity", config_.identity}});
  return Status::Ok();
}

}  // namespace oomcast::controller
