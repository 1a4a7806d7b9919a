# Sourced by the shell tests that run the agent on DPDK without hugepages or
# a NIC. append_dpdk_config FILE PREFIX VDEV appends a [capture] backend =
# "dpdk" section whose EAL runs in memory (--no-huge, 256 MB) under its own
# --file-prefix PREFIX-<pid>, reading the vdev VDEV (e.g.
# "net_pcap0,rx_pcap=/abs/file.pcap").
append_dpdk_config() {
  cat >> "$1" <<TOML

[capture]
backend = "dpdk"

[capture.dpdk]
eal_args = ["--no-huge", "--no-pci", "--no-shconf", "--no-telemetry", "-m", "256",
            "--file-prefix=$2-$$", "--vdev=$3"]
mbuf_pool_size = 4095
TOML
}
