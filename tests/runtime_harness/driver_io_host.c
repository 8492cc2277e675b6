/* Host I/O for the runtime test driver: driver CASES RESULTS */
#include <stdio.h>

#include "driver_io.h"

static FILE *in_file;
static FILE *out_file;

uint32_t io_read(void *p, uint32_t n)
{
    return (uint32_t)fread(p, 1, n, in_file);
}

void io_write(const void *p, uint32_t n)
{
    if (fwrite(p, 1, n, out_file) != n) {
        perror("write");
    }
}

int main(int argc, char **argv)
{
    int status;
    if (argc != 3) {
        fprintf(stderr, "usage: %s CASES RESULTS\n", argv[0]);
        return 2;
    }
    in_file = fopen(argv[1], "rb");
    out_file = fopen(argv[2], "wb");
    if (in_file == NULL || out_file == NULL) {
        perror("open");
        return 2;
    }
    status = driver_main();
    fclose(in_file);
    if (fclose(out_file) != 0) {
        return 2;
    }
    return status;
}
