#!/usr/bin/python3
"""Runs a command with io_uring refused, as a container's seccomp profile refuses it (Docker's
default profile has since 2023): a seccomp filter makes io_uring_setup fail with EPERM, and every
other syscall goes through.

    without_io_uring.py COMMAND [ARGS...]
"""
import ctypes
import os
import sys

IO_URING_SETUP = 425  # the same number on every architecture (the syscall table's generic part)
EPERM = 1
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000
BPF_LD_W_ABS = 0x20   # load the 32-bit word at an offset of struct seccomp_data
BPF_JEQ_K = 0x15      # jump if equal to a constant
BPF_RET_K = 0x06      # return a constant


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def refuse_io_uring():
    program = (SockFilter * 4)(
        SockFilter(BPF_LD_W_ABS, 0, 0, 0),                  # the syscall number
        SockFilter(BPF_JEQ_K, 0, 1, IO_URING_SETUP),
        SockFilter(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM),
        SockFilter(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
    )
    fprog = SockFprog(len(program), program)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
            libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    refuse_io_uring()
    os.execvp(sys.argv[1], sys.argv[1:])
