#include "agent/agent_shipping.h"

namespace ipattrib::agent {

AggregatorOptions AgentShipping::aggregator_options(const AgentConfig& config) {
  AggregatorOptions aggregation;
  aggregation.agent_id = config.identity.id;
  aggregation.gateway = config.identity.gateway;
  aggregation.flush_window_ms = config.ship.flush_window_ms;
  aggregation.max_records_per_window = config.ship.max_records_per_window;
  aggregation.ship_unattributed = config.ship.ship_unattributed;
  return aggregation;
}

Status AgentShipping::start(const AgentConfig& config, bool aggregate_here, bool replaying_a_file,
                            std::unique_ptr<AgentShipping>& out) {
  const ShipConfig& ship = config.ship;
  ShipperOptions options;
  options.spool.dir = ship.spool_dir;
  options.spool.max_bytes = std::uint64_t{ship.max_spool_mb} << 20;
  options.wait_when_full = replaying_a_file;
  options.client.collectors = collector_endpoints(ship);
  options.client.tls = tls::TlsFiles{ship.tls_ca, ship.tls_cert, ship.tls_key};
  options.client.plaintext_for_tests = ship.plaintext_for_tests;
  options.client.agent_id = config.identity.id;
  options.client.gateway = config.identity.gateway;

  std::unique_ptr<Shipper> shipper;
  if (Status s = Shipper::create(options, shipper); !s) return s;
  auto shipping = std::unique_ptr<AgentShipping>(new AgentShipping(std::move(shipper)));
  // No sequence counter: the spool numbers batches as the single writer.
  if (aggregate_here) {
    shipping->aggregator_ = std::make_unique<Aggregator>(aggregator_options(config), nullptr, *shipping->shipper_);
  }
  shipping->shipper_->start();
  out = std::move(shipping);
  return Status::ok();
}

void AgentShipping::finish(std::chrono::milliseconds drain_timeout) {
  if (aggregator_ != nullptr) aggregator_->flush_all();
  shipper_->stop(drain_timeout);
}

void AgentShipping::report(StatsSink& sink) const {
  if (aggregator_ != nullptr) aggregator_->report(sink);
  shipper_->report(sink);
}

}  // namespace ipattrib::agent
