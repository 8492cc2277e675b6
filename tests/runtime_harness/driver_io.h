/* I/O of the runtime test driver: the host build uses stdio, the firmware build ARM
 * semihosting. Both read the case file named on the command line and write the results. */
#ifndef DRIVER_IO_H
#define DRIVER_IO_H

#include <stdint.h>

/* Reads up to n bytes of the case file; returns the number read. */
uint32_t io_read(void *p, uint32_t n);
/* Appends n bytes to the result file. */
void io_write(const void *p, uint32_t n);

/* Runs every record of the case file; 0 on success. */
int driver_main(void);

#endif
