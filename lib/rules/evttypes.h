/* SPDX-License-Identifier: Apache-2.0 */
/*
 * evttypes: the event types the engine knows, by their Falco evt.type names, as an X-macro list.
 * Included by event.h (enum rules_evt_type) and event.c (the name table). Only grows.
 * A condition naming an evt.type outside this list compiles (with a warning) and never matches.
 */
/* clang-format off */
#define RULES_EVTTYPE_LIST(X) \
	X(execve) X(execveat) X(clone) X(clone3) X(fork) X(vfork) X(procexit) \
	X(open) X(openat) X(openat2) X(open_by_handle_at) X(creat) X(close) X(read) X(write) \
	X(pread) X(pwrite) X(readv) X(writev) X(sendfile) X(dup) X(dup2) X(dup3) \
	X(connect) X(accept) X(accept4) X(bind) X(listen) X(socket) X(socketpair) \
	X(sendto) X(sendmsg) X(recvfrom) X(recvmsg) X(shutdown) \
	X(rename) X(renameat) X(renameat2) X(unlink) X(unlinkat) X(rmdir) X(mkdir) X(mkdirat) \
	X(link) X(linkat) X(symlink) X(symlinkat) X(chmod) X(fchmod) X(fchmodat) \
	X(chown) X(fchown) X(fchownat) X(lchown) X(truncate) X(ftruncate) \
	X(mount) X(umount) X(umount2) X(chroot) X(chdir) X(fchdir) X(pivot_root) \
	X(setuid) X(setgid) X(setresuid) X(setresgid) X(setreuid) X(setregid) X(setns) X(unshare) \
	X(capset) X(prctl) X(ptrace) X(kill) X(tkill) X(tgkill) X(mmap) X(mprotect) X(munmap) \
	X(init_module) X(finit_module) X(delete_module) X(bpf) X(userfaultfd) X(memfd_create) \
	X(ioctl) X(fcntl) X(pipe) X(pipe2) X(eventfd) X(signalfd) X(inotify_init) X(timerfd_create) \
	X(process_vm_readv) X(process_vm_writev) X(seccomp) X(quotactl) X(setrlimit) X(prlimit) \
	X(container) X(switch) X(io_uring_setup) X(io_uring_enter) X(io_uring_register) \
	X(mknod) X(mknodat) X(utimensat) X(uselib) X(fsconfig) X(epoll_create) X(epoll_create1)
/* clang-format on */
