/*
 * Host tool for tests/test_cycles.py: decodes instructions with cortex_m4_timing.h, the
 * decoder of the counting plugin's Cortex-M4 cycle model.
 * stdin, one instruction a line:  ADDRESS HW1 [HW2]        (hex, as objdump prints them)
 * stdout, one line each:          ADDRESS CLASS CYCLES BRANCH ACCESS LEADER FOLLOWER MEMORY
 *                                 ADDRESS_REGS LOAD_DESTS ALU_WRITES   (register masks, hex)
 */
#include <stdio.h>

#include "cortex_m4_timing.h"

int main(void)
{
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        unsigned long address;
        unsigned hw[2];
        int fields = sscanf(line, "%lx %x %x", &address, &hw[0], &hw[1]);
        if (fields < 2) {
            fprintf(stderr, "m4_decode_dump: bad line: %s", line);
            return 2;
        }
        uint8_t bytes[4] = {(uint8_t)hw[0], (uint8_t)(hw[0] >> 8), 0, 0};
        if (fields == 3) {
            bytes[2] = (uint8_t)hw[1];
            bytes[3] = (uint8_t)(hw[1] >> 8);
        }
        struct m4_insn d;
        if (m4_decode(bytes, fields == 3 ? 4 : 2, &d) != 0) {
            printf("%lx truncated\n", address);
            continue;
        }
        printf("%lx %s %u %u %u %u %u %u %x %x %x\n", address, m4_class_names[d.cls], d.cycles, d.branch,
               d.access_size, d.pipeline_leader, d.pipeline_follower, d.is_memory, d.address_regs,
               d.load_dests, d.alu_writes);
    }
    return 0;
}
