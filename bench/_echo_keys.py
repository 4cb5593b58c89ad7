"""The floor of bench/tui.py's key-press method: a program that does nothing but show, at
once, how many reads of keys it has had (the terminal raw, one write per read). What the
method measures on it is tmux and the measuring itself: send-keys, the pty both ways, tmux
drawing its screen, capture-pane."""

import os
import sys
import termios
import tty

fd = sys.stdin.fileno()
before = termios.tcgetattr(fd)
tty.setraw(fd)
try:
    reads = 0
    os.write(1, b"\x1b[2J\x1b[Hready\r\n")
    while True:
        data = os.read(fd, 1024)
        if not data or b"\x03" in data:
            break
        reads += 1
        os.write(1, f"\x1b[H\x1b[2Kkeys read {reads}".encode())
finally:
    termios.tcsetattr(fd, termios.TCSANOW, before)
