/* SPDX-License-Identifier: GPL-2.0 */
/*
 * print_xlated(): the xlated instructions of a loaded program, one per line, in a form that
 * compares equal between the built-in C map and the module: map addresses (ldimm64) and
 * helper addresses (calls) differ between the two and are left out. Shared by amtest and
 * ambench.
 */
#ifndef AMTEST_XLATED_H
#define AMTEST_XLATED_H

#include <errno.h>
#include <stdio.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

/*
 * The xlated instructions of a loaded program into @insns (room for @max): their number,
 * -E2BIG if there are more, or -errno.
 */
static inline int get_xlated(int prog_fd, struct bpf_insn *insns, unsigned int max)
{
	struct bpf_prog_info info = {
		.xlated_prog_len = max * sizeof(*insns),
		.xlated_prog_insns = (__u64)(unsigned long)insns,
	};
	__u32 len = sizeof(info);
	unsigned int n;

	if (bpf_prog_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	/* The kernel reports the full length but copies no more than the buffer holds. */
	n = info.xlated_prog_len / sizeof(*insns);
	return n > max ? -E2BIG : (int)n;
}

static inline int print_xlated(int prog_fd)
{
	struct bpf_insn insns[512];
	int i, n = get_xlated(prog_fd, insns, sizeof(insns) / sizeof(insns[0]));

	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		struct bpf_insn *in = &insns[i];
		int imm = in->imm;

		if (in->code == (BPF_LD | BPF_DW | BPF_IMM)) {
			printf("%02x %x %x %d map-address\n", in->code, in->dst_reg,
			       in->src_reg, in->off);
			i++;
			continue;
		}
		if (in->code == (BPF_JMP | BPF_CALL))
			imm = 0; /* helper address: differs between builds */
		printf("%02x %x %x %d %d\n", in->code, in->dst_reg, in->src_reg, in->off, imm);
	}
	return 0;
}

#endif
