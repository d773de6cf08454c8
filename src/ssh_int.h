/* ssh's private parts, shared by ssh.c and ssh_pool.c only. */
#ifndef CUTOVER_SSH_INT_H
#define CUTOVER_SSH_INT_H

#include "cutover/xport.h"

void ssh_conn_close(struct xport *x);

#endif
