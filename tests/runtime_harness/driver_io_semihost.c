/* Firmware I/O for the runtime test driver: ARM semihosting (templates/firmware semihost.h).
 * Command line: "firmware CASES RESULTS" (absolute paths; run_firmware's args). */
#include "driver_io.h"
#include "semihost.h"

static int in_handle = -1;
static int out_handle = -1;

uint32_t io_read(void *p, uint32_t n)
{
    return n - (uint32_t)sh_read(in_handle, p, n); /* sh_read returns the bytes NOT read */
}

void io_write(const void *p, uint32_t n)
{
    sh_write(out_handle, p, n);
}

int main(void)
{
    static char line[512];
    char *cases = 0, *results = 0, *c;
    int status;

    if (sh_cmdline(line, sizeof line) != 0) {
        return 10;
    }
    for (c = line; *c; c++) { /* split "firmware CASES RESULTS" at the spaces */
        if (*c == ' ') {
            *c = '\0';
            if (cases == 0) {
                cases = c + 1;
            } else if (results == 0) {
                results = c + 1;
            }
        }
    }
    if (cases == 0 || results == 0) {
        return 11;
    }
    in_handle = sh_open(cases, SH_MODE_READ_BINARY);
    out_handle = sh_open(results, SH_MODE_WRITE_BINARY);
    if (in_handle < 0 || out_handle < 0) {
        return 12;
    }
    status = driver_main();
    sh_close(in_handle);
    sh_close(out_handle);
    return status;
}
