/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An interactive command gets a pseudo-terminal of its own, relayed by nono, instead
 * of the user's terminal: whatever it does to its terminal (TIOCSTI, TIOCLINUX, mode
 * changes) stays in the pty, while line editing, job control and window size keep
 * working.  Used when stdin and stdout are both terminals.
 */
#ifndef NONO_CORE_PTYRELAY_H
#define NONO_CORE_PTYRELAY_H

#include <sys/types.h>
#include <termios.h>

struct pty_relay {
        int master;
        int slave;
        int saved_valid; /* the user's terminal settings were saved and must be restored */
        struct termios saved;
};

/* True when the session is interactive (stdin and stdout are terminals). */
int pty_relay_wanted(void);

/* Opens the pty pair, sized like the user's terminal.  Negative errno on failure. */
int pty_relay_open(struct pty_relay *r);

/* Child side, after setsid(): makes the pty slave the controlling terminal and stdin,
 * stdout (and stderr when it was a terminal).  Async-signal-safe. */
int pty_relay_attach_child(const struct pty_relay *r);

/*
 * Parent side, once the child runs: closes the slave and puts the user's terminal in
 * raw mode, so keys (Ctrl-C, Ctrl-Z) reach the command's pty, which turns them into
 * signals for the command's own foreground job.
 */
void pty_relay_begin(struct pty_relay *r);
/* Copies what the command wrote to stdout. */
void pty_relay_from_child(struct pty_relay *r);
/* Copies what the user typed to the command; 0 once stdin is at its end. */
int pty_relay_to_child(struct pty_relay *r);
/* Gives the pty the user's current window size (after SIGWINCH). */
void pty_relay_resize(struct pty_relay *r);
/* Copies what is still buffered, then restores the user's terminal. */
void pty_relay_end(struct pty_relay *r);

void pty_relay_close(struct pty_relay *r);

#endif
