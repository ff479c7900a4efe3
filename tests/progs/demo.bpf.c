// SPDX-License-Identifier: GPL-2.0
/* The program that the demo (tests/demo.sh) stores in a PROG_ARRAY with bpftool. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int demo_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
