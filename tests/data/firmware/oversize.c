/* Test firmware for tests/test_emulator.py: too big for its board on purpose.
   FLASH_BYTES sizes a constant table, RAM_BYTES a zero-initialised arena. */
#include <stdint.h>

const uint8_t table[FLASH_BYTES] = {1};
static uint8_t arena[RAM_BYTES];

int main(void)
{
    /* Volatile pointers: the compiler cannot fold the accesses away and drop the arrays. */
    const uint8_t *volatile from = table;
    uint8_t *volatile to = arena;
    to[RAM_BYTES - 1] = from[FLASH_BYTES - 1];
    return to[RAM_BYTES - 1];
}
