/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fieldlist: the catalogue of filter fields (syscall source), as an X-macro list.
 *
 *   RULES_FIELD(ID, "falco.name", type, flags, "description")
 *
 * Types: STR (text), NUM (signed 64-bit), BOOL (0/1, compared as true/false), IP (address text),
 * LIST (a list of strings, e.g. fd.types). Flags: ARG_REQ (the field needs an argument, e.g.
 * evt.arg.flags / evt.arg[1]), ARG_OPT (an optional argument, e.g. proc.aname[2]), NONE.
 *
 * Included by event.h (to make enum rules_field) and fields.c (to make the catalogue). Only grows:
 * new fields go at the end of their group, ids are not stored anywhere persistent.
 */
/* clang-format off */
#define RULES_FIELD_LIST(X) \
	X(EVT_TYPE, "evt.type", STR, NONE, "event type (syscall name)") \
	X(EVT_DIR, "evt.dir", STR, NONE, "event direction: < exit, > enter (always < in Vigil)") \
	X(EVT_NUM, "evt.num", NUM, NONE, "event sequence number") \
	X(EVT_TIME, "evt.time", STR, NONE, "event time as text") \
	X(EVT_RAWTIME, "evt.rawtime", NUM, NONE, "event time in ns since the epoch") \
	X(EVT_HOSTNAME, "evt.hostname", STR, NONE, "host name") \
	X(EVT_RES, "evt.res", STR, NONE, "result as text: SUCCESS or an errno name") \
	X(EVT_RAWRES, "evt.rawres", NUM, NONE, "result as a number") \
	X(EVT_FAILED, "evt.failed", BOOL, NONE, "true when the syscall failed") \
	X(EVT_IS_OPEN_READ, "evt.is_open_read", BOOL, NONE, "open with read access") \
	X(EVT_IS_OPEN_WRITE, "evt.is_open_write", BOOL, NONE, "open with write access") \
	X(EVT_IS_OPEN_EXEC, "evt.is_open_exec", BOOL, NONE, "open with O_EXEC or of an executable") \
	X(EVT_IS_OPEN_CREATE, "evt.is_open_create", BOOL, NONE, "open that created the file") \
	X(EVT_ARGS, "evt.args", STR, NONE, "all arguments as text") \
	X(EVT_ARG, "evt.arg", STR, ARG_REQ, "one argument by name (evt.arg.flags) or index") \
	X(EVT_BUFFER, "evt.buffer", STR, NONE, "the I/O buffer of a read/write") \
	X(EVT_SOURCE, "evt.source", STR, NONE, "event source (syscall)") \
	X(EVT_CPU, "evt.cpu", NUM, NONE, "cpu number") \
	X(SYSCALL_TYPE, "syscall.type", STR, NONE, "syscall name (same as evt.type)") \
	X(PROC_NAME, "proc.name", STR, NONE, "process name (comm)") \
	X(PROC_EXE, "proc.exe", STR, NONE, "first command-line argument (argv[0])") \
	X(PROC_EXEPATH, "proc.exepath", STR, NONE, "full path of the executable") \
	X(PROC_CMDLINE, "proc.cmdline", STR, NONE, "name and arguments") \
	X(PROC_ARGS, "proc.args", STR, NONE, "arguments joined by spaces") \
	X(PROC_PID, "proc.pid", NUM, NONE, "process id") \
	X(PROC_PPID, "proc.ppid", NUM, NONE, "parent process id") \
	X(PROC_VPID, "proc.vpid", NUM, NONE, "process id in its pid namespace") \
	X(PROC_PVPID, "proc.pvpid", NUM, NONE, "parent id in its pid namespace") \
	X(PROC_PNAME, "proc.pname", STR, NONE, "parent process name") \
	X(PROC_PEXE, "proc.pexe", STR, NONE, "parent argv[0]") \
	X(PROC_PEXEPATH, "proc.pexepath", STR, NONE, "parent executable path") \
	X(PROC_PCMDLINE, "proc.pcmdline", STR, NONE, "parent name and arguments") \
	X(PROC_ANAME, "proc.aname", STR, ARG_OPT, "ancestor name; [0] self, [1] parent; no index: any") \
	X(PROC_AEXE, "proc.aexe", STR, ARG_OPT, "ancestor argv[0]; [N] as proc.aname") \
	X(PROC_AEXEPATH, "proc.aexepath", STR, ARG_OPT, "ancestor executable path") \
	X(PROC_APID, "proc.apid", NUM, ARG_OPT, "ancestor pid") \
	X(PROC_CWD, "proc.cwd", STR, NONE, "current working directory") \
	X(PROC_TTY, "proc.tty", NUM, NONE, "controlling terminal, 0 if none") \
	X(PROC_ENV, "proc.env", STR, ARG_OPT, "environment (all, or one variable by name)") \
	X(PROC_SNAME, "proc.sname", STR, NONE, "session leader name") \
	X(PROC_SID, "proc.sid", NUM, NONE, "session id") \
	X(PROC_VPGID, "proc.vpgid", NUM, NONE, "process group id in its namespace") \
	X(PROC_VPGID_NAME, "proc.vpgid.name", STR, NONE, "process group leader name") \
	X(PROC_VPGID_EXE, "proc.vpgid.exe", STR, NONE, "process group leader argv[0]") \
	X(PROC_IS_VPGID_LEADER, "proc.is_vpgid_leader", BOOL, NONE, "process is its group leader") \
	X(PROC_IS_EXE_UPPER_LAYER, "proc.is_exe_upper_layer", BOOL, NONE, "exe in an overlayfs upper layer") \
	X(PROC_IS_EXE_FROM_MEMFD, "proc.is_exe_from_memfd", BOOL, NONE, "exe is a memfd") \
	X(PROC_IS_EXE_WRITABLE, "proc.is_exe_writable", BOOL, NONE, "exe writable by the user") \
	X(PROC_EXE_INO, "proc.exe_ino", NUM, NONE, "exe inode") \
	X(PROC_EXE_INO_MTIME, "proc.exe_ino.mtime", NUM, NONE, "exe modify time (ns)") \
	X(PROC_EXE_INO_CTIME, "proc.exe_ino.ctime", NUM, NONE, "exe change time (ns)") \
	X(PROC_EXE_INO_CTIME_DPS, "proc.exe_ino.ctime_duration_proc_start", NUM, NONE, "ns from exe ctime to start") \
	X(PROC_DURATION, "proc.duration", NUM, NONE, "ns since the process started") \
	X(PROC_PPID_DURATION, "proc.ppid.duration", NUM, NONE, "ns since the parent started") \
	X(THREAD_TID, "thread.tid", NUM, NONE, "thread id") \
	X(THREAD_VTID, "thread.vtid", NUM, NONE, "thread id in its namespace") \
	X(THREAD_CAP_PERMITTED, "thread.cap_permitted", STR, NONE, "permitted capabilities (CAP_X CAP_Y)") \
	X(THREAD_CAP_EFFECTIVE, "thread.cap_effective", STR, NONE, "effective capabilities") \
	X(THREAD_CAP_INHERITABLE, "thread.cap_inheritable", STR, NONE, "inheritable capabilities") \
	X(USER_UID, "user.uid", NUM, NONE, "user id") \
	X(USER_NAME, "user.name", STR, NONE, "user name") \
	X(USER_LOGINUID, "user.loginuid", NUM, NONE, "audit login uid (-1 if none)") \
	X(USER_LOGINNAME, "user.loginname", STR, NONE, "audit login user name") \
	X(USER_HOMEDIR, "user.homedir", STR, NONE, "home directory") \
	X(USER_SHELL, "user.shell", STR, NONE, "login shell") \
	X(GROUP_GID, "group.gid", NUM, NONE, "group id") \
	X(GROUP_NAME, "group.name", STR, NONE, "group name") \
	X(FD_NUM, "fd.num", NUM, NONE, "file descriptor number") \
	X(FD_TYPE, "fd.type", STR, NONE, "file, directory, ipv4, ipv6, unix, pipe, ...") \
	X(FD_TYPECHAR, "fd.typechar", STR, NONE, "f, 4, 6, u, p, e, s, l, i, b, m, ...") \
	X(FD_NAME, "fd.name", STR, NONE, "file path or connection tuple") \
	X(FD_NAMERAW, "fd.nameraw", STR, NONE, "path as passed to the syscall") \
	X(FD_DIRECTORY, "fd.directory", STR, NONE, "directory of fd.name") \
	X(FD_FILENAME, "fd.filename", STR, NONE, "last component of fd.name") \
	X(FD_IP, "fd.ip", IP, NONE, "either end's IP (matches client or server)") \
	X(FD_CIP, "fd.cip", IP, NONE, "client IP") \
	X(FD_SIP, "fd.sip", IP, NONE, "server IP") \
	X(FD_LIP, "fd.lip", IP, NONE, "local IP") \
	X(FD_RIP, "fd.rip", IP, NONE, "remote IP") \
	X(FD_PORT, "fd.port", NUM, NONE, "either end's port") \
	X(FD_CPORT, "fd.cport", NUM, NONE, "client port") \
	X(FD_SPORT, "fd.sport", NUM, NONE, "server port") \
	X(FD_LPORT, "fd.lport", NUM, NONE, "local port") \
	X(FD_RPORT, "fd.rport", NUM, NONE, "remote port") \
	X(FD_L4PROTO, "fd.l4proto", STR, NONE, "tcp, udp, icmp, raw") \
	X(FD_SOCKFAMILY, "fd.sockfamily", STR, NONE, "ip or unix") \
	X(FD_NET, "fd.net", IP, NONE, "either end's IP, for CIDR matching") \
	X(FD_CNET, "fd.cnet", IP, NONE, "client IP, for CIDR matching") \
	X(FD_SNET, "fd.snet", IP, NONE, "server IP, for CIDR matching") \
	X(FD_LNET, "fd.lnet", IP, NONE, "local IP, for CIDR matching") \
	X(FD_RNET, "fd.rnet", IP, NONE, "remote IP, for CIDR matching") \
	X(FD_CIP_NAME, "fd.cip.name", STR, NONE, "client domain name") \
	X(FD_SIP_NAME, "fd.sip.name", STR, NONE, "server domain name") \
	X(FD_LIP_NAME, "fd.lip.name", STR, NONE, "local domain name") \
	X(FD_RIP_NAME, "fd.rip.name", STR, NONE, "remote domain name") \
	X(FD_CONNECTED, "fd.connected", BOOL, NONE, "socket is connected") \
	X(FD_NAME_CHANGED, "fd.name_changed", BOOL, NONE, "fd name changed by this event") \
	X(FD_IS_SERVER, "fd.is_server", BOOL, NONE, "process is the server end") \
	X(FD_DEV, "fd.dev", NUM, NONE, "device number") \
	X(FD_INO, "fd.ino", NUM, NONE, "inode number") \
	X(FD_TYPES, "fd.types", LIST, ARG_OPT, "types of all fds (or of fd N)") \
	X(FS_PATH_NAME, "fs.path.name", STR, NONE, "path of a filesystem syscall") \
	X(FS_PATH_SOURCE, "fs.path.source", STR, NONE, "source path of a rename/link") \
	X(FS_PATH_TARGET, "fs.path.target", STR, NONE, "target path of a rename/link") \
	X(CONTAINER_ID, "container.id", STR, NONE, "container id, 'host' outside containers") \
	X(CONTAINER_NAME, "container.name", STR, NONE, "container name") \
	X(CONTAINER_IMAGE, "container.image", STR, NONE, "image name with tag") \
	X(CONTAINER_IMAGE_ID, "container.image.id", STR, NONE, "image id") \
	X(CONTAINER_IMAGE_REPOSITORY, "container.image.repository", STR, NONE, "image repository") \
	X(CONTAINER_IMAGE_TAG, "container.image.tag", STR, NONE, "image tag") \
	X(CONTAINER_IMAGE_DIGEST, "container.image.digest", STR, NONE, "image digest") \
	X(CONTAINER_TYPE, "container.type", STR, NONE, "docker, containerd, cri-o, ...") \
	X(CONTAINER_PRIVILEGED, "container.privileged", BOOL, NONE, "container is privileged") \
	X(CONTAINER_MOUNTS, "container.mounts", STR, NONE, "mounts as text") \
	X(CONTAINER_MOUNT_DEST, "container.mount.dest", STR, ARG_REQ, "mount dest for a source (glob)") \
	X(CONTAINER_START_TS, "container.start_ts", NUM, NONE, "container start time (ns)") \
	X(CONTAINER_HEALTHCHECK, "container.healthcheck", STR, NONE, "health check command") \
	X(K8S_NS_NAME, "k8s.ns.name", STR, NONE, "Kubernetes namespace") \
	X(K8S_POD_NAME, "k8s.pod.name", STR, NONE, "pod name") \
	X(K8S_POD_UID, "k8s.pod.uid", STR, NONE, "pod uid") \
	X(K8S_POD_ID, "k8s.pod.id", STR, NONE, "pod uid (legacy name)") \
	X(K8S_POD_SANDBOX_ID, "k8s.pod.sandbox_id", STR, NONE, "pod sandbox id") \
	X(K8S_POD_IP, "k8s.pod.ip", STR, NONE, "pod IP")
/* clang-format on */
