"""Attack catalogue groups B (mounts, namespaces), C (processes), D (network, without
the proxy) and E (IPC) against the real nono binary.  Payloads are Python run inside
the sandbox; each prints PAYLOAD-RAN first and one verdict line per attempt, and the
effect is checked from outside (the listener got nothing, the host process lives).
Network targets are loopback listeners this test opens; nothing else is contacted."""
import errno
import os
import shlex
import signal
import socket
import subprocess
import textwrap
import time

from nonotest import NONO, SYSTEM_PYTHON, TEST_UID, Listener, SandboxTestCase, as_test_user, main

# The Unix-socket helper and wrap's mediator of the nono under test, in its build tree.
HELPER, MEDIATOR = (os.path.join(os.path.dirname(os.path.realpath(NONO)), "core", "unixhelper",
                                 name) for name in ("nono-unix-helper", "nono-unixmed"))

# Shared by every payload: try(label, fn) prints "label OK" or "label DENIED errno".
PRELUDE = textwrap.dedent("""
    import ctypes, errno, os, socket, sys
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    print("PAYLOAD-RAN", flush=True)
    def attempt(label, fn):
        try:
            r = fn()
            if isinstance(r, int) and r < 0:
                print(label, "DENIED", ctypes.get_errno(), flush=True)
            else:
                print(label, "OK", flush=True)
        except OSError as e:
            print(label, "DENIED", e.errno, flush=True)
""")


class EscapeCase(SandboxTestCase):
    block = ("--profile", "")  # filled in setUp: a profile with network.block

    def setUp(self):
        super().setUp()
        prof = os.path.join(self.root, "block.json")
        self.write(prof, '{"network": {"block": true}}')
        self.block = ("--profile", prof)

    def listener(self, *args):
        lis = Listener(*args)
        self.addCleanup(lis.close)
        return lis

    def payload(self, body, *flags, command="run"):
        p = self.nono(command, "--allow-cwd", *flags, "--", SYSTEM_PYTHON, "-c",
                      PRELUDE + textwrap.dedent(body))
        self.assertRan(p)
        return {line.split()[0]: line.split()[1] for line in p.stdout.splitlines()[1:]
                if len(line.split()) >= 2}

    def host_unix_socket(self, name, kind=socket.SOCK_STREAM):
        """A Unix socket of the host's outside every grant, that anyone may connect to
        (like docker.sock); returns (socket, path)."""
        path = os.path.join(self.out, name)
        srv = socket.socket(socket.AF_UNIX, kind)
        srv.bind(path)
        if kind == socket.SOCK_STREAM:
            srv.listen(4)
        srv.setblocking(False)
        os.chmod(path, 0o777)
        self.addCleanup(srv.close)
        return srv, path

    def assertDenied(self, verdicts, *labels):
        for label in labels:
            self.assertEqual(verdicts.get(label), "DENIED", f"{label}: {verdicts}")

    def assertAllowed(self, verdicts, *labels):
        for label in labels:
            self.assertEqual(verdicts.get(label), "OK", f"{label}: {verdicts}")


class Namespaces(EscapeCase):
    def test_b01_b05_mounts_and_namespaces(self):
        before = sorted(os.listdir(self.ws))
        v = self.payload(f"""
            CLONE_NEWUSER, CLONE_NEWNS = 0x10000000, 0x00020000
            attempt("unshare-user", lambda: libc.unshare(CLONE_NEWUSER))
            attempt("unshare-mount", lambda: libc.unshare(CLONE_NEWNS))
            attempt("mount-tmpfs", lambda: libc.mount(b"x", b"{self.ws}", b"tmpfs", 0, None))
            attempt("umount-proc", lambda: libc.umount2(b"/proc", 2))
            attempt("chroot", lambda: os.chroot("/tmp"))
            attempt("clone3", lambda: libc.syscall(435, None, 0))
            fd = os.open("/proc/1/ns/mnt", os.O_RDONLY) if os.path.exists("/proc/1/ns/mnt") else -1
            attempt("setns", lambda: libc.setns(fd, 0) if fd >= 0 else -1)
        """)
        self.assertDenied(v, "unshare-user", "unshare-mount", "mount-tmpfs", "umount-proc",
                          "chroot", "clone3", "setns")
        self.assertEqual(sorted(os.listdir(self.ws)), before)
        p = self.sandboxed("echo PAYLOAD-RAN; unshare -Urm sh -c 'echo INSIDE-USERNS'")
        self.assertRan(p)
        self.assertNotIn("INSIDE-USERNS", p.stdout)

    def test_b06_nested_sandbox_only_shrinks(self):
        nono = os.environ["NONO_BIN"]
        source = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
        inner = os.path.join(self.ws, "inner")
        os.makedirs(inner)
        # The outer sandbox lets the inner nono read its build tree, profiles and
        # config, and reads OUT itself; the inner one grants neither OUT nor WS.
        p = self.sandboxed(f"echo PAYLOAD-RAN; cd {inner} && {nono} run --allow-cwd -- "
                           f"/bin/sh -c 'echo INNER-RAN; cat {self.out}/secret; "
                           f"echo x > {self.ws}/outer-file' ; echo inner-rc=$?",
                           "--read", os.path.dirname(nono), "--read", source,
                           "--read", self.out)
        self.assertRan(p)
        self.assertIn("INNER-RAN", p.stdout)
        self.assertNotIn("OUT-SECRET", p.stdout)  # readable outside, not granted inside
        self.assertFalse(os.path.exists(os.path.join(self.ws, "outer-file")))

    def test_b07_no_landlock_fails_closed(self):
        conf = os.path.join(self.root, "nono.conf")
        self.write(conf, "plugins = { landlock = { max_abi = 0; }; };\n")
        for flags in ((), ("--best-effort",)):
            p = self.nono("run", *flags, "--", "/bin/sh", "-c", "echo PAYLOAD-RAN",
                          env=self.env(NONO_CONFIG=conf))
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertNotIn("PAYLOAD-RAN", p.stdout)

    def test_b08_threads_are_confined(self):
        v = self.payload(f"""
            import threading
            def read():
                attempt("thread-read", lambda: open("{self.out}/secret").read())
            t = threading.Thread(target=read); t.start(); t.join()
        """)
        self.assertDenied(v, "thread-read")


class Processes(EscapeCase):
    def test_c02_sigio_to_host_process(self):
        marker = os.path.join(self.out, "got-sigio")
        ready = os.path.join(self.out, "watcher-ready")
        self.give_to_test_user()
        watcher = subprocess.Popen(as_test_user([SYSTEM_PYTHON, "-c", textwrap.dedent(f"""
            import signal, time
            def hit(*_):
                open("{marker}", "w").write("hit")
            signal.signal(signal.SIGIO, hit); signal.signal(signal.SIGURG, hit)
            open("{ready}", "w").write("ready")
            time.sleep(20)
        """)]))
        self.addCleanup(watcher.wait)
        self.addCleanup(watcher.kill)
        deadline = time.monotonic() + 10
        while not os.path.exists(ready) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(os.path.exists(ready))
        arm = textwrap.dedent(f"""
            import fcntl, os, socket
            print("PAYLOAD-RAN", flush=True)
            a, b = socket.socketpair()
            fcntl.fcntl(a, fcntl.F_SETOWN, {watcher.pid})
            fcntl.fcntl(a, fcntl.F_SETFL, fcntl.fcntl(a, fcntl.F_GETFL) | os.O_ASYNC)
            b.send(b"x")
        """)
        # Outside the sandbox the signal arrives: the test can tell.
        subprocess.run(as_test_user([SYSTEM_PYTHON, "-c", arm]), check=True, timeout=30)
        deadline = time.monotonic() + 5
        while not os.path.exists(marker) and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(os.path.exists(marker), "SIGIO does not work even unsandboxed")
        os.unlink(marker)
        p = self.nono("run", "--allow-cwd", "--", SYSTEM_PYTHON, "-c", arm)
        self.assertRan(p)
        time.sleep(0.5)
        self.assertFalse(os.path.exists(marker), "SIGIO reached a host process")

    def test_c03_c05_supervisor_and_host_memory(self):
        host = subprocess.Popen(as_test_user(["sleep", "30"]))
        self.addCleanup(host.wait)
        self.addCleanup(host.kill)
        v = self.payload(f"""
            PTRACE_ATTACH = 16
            sup = os.getppid()
            attempt("ptrace-host", lambda: libc.ptrace(PTRACE_ATTACH, {host.pid}, 0, 0))
            attempt("ptrace-supervisor", lambda: libc.ptrace(PTRACE_ATTACH, sup, 0, 0))
            attempt("mem-supervisor", lambda: open(f"/proc/{{sup}}/mem", "r+b"))
            attempt("environ-supervisor", lambda: open(f"/proc/{{sup}}/environ").read())
            attempt("cmdline-host", lambda: open("/proc/{host.pid}/environ").read())
            buf = ctypes.create_string_buffer(8)
            class iovec(ctypes.Structure):
                _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
            iov = iovec(ctypes.addressof(buf), 8)
            attempt("vm-write", lambda: libc.process_vm_writev(sup, ctypes.byref(iov), 1,
                                                               ctypes.byref(iov), 1, 0))
        """)
        self.assertDenied(v, "ptrace-host", "ptrace-supervisor", "mem-supervisor",
                          "environ-supervisor", "cmdline-host", "vm-write")
        self.assertIsNone(host.poll())

    def test_c10_children_die_with_nono(self):
        tag = f"{os.getpid() % 1000}{time.monotonic_ns() % 100000}"
        # A process of the same user outside the sandbox must survive the teardown.
        bystander = subprocess.Popen(as_test_user(["sleep", f"998.{tag}"]))
        self.addCleanup(bystander.wait)
        self.addCleanup(bystander.kill)
        self.give_to_test_user()
        nono = subprocess.Popen(
            as_test_user([os.environ["NONO_BIN"], "run", "--allow-cwd", "--", "/bin/sh", "-c",
                          f"sleep 1000.{tag} & sh -c 'sleep 999.{tag}' & echo READY; wait"]),
            cwd=self.ws, env=self.env(), stdout=subprocess.PIPE, text=True)
        self.assertEqual(nono.stdout.readline().strip(), "READY")
        time.sleep(0.3)
        nono.kill()
        nono.wait(10)
        nono.stdout.close()
        deadline = time.monotonic() + 5
        left = []
        while time.monotonic() < deadline:
            left = subprocess.run(["pgrep", "-f", f"sleep (1000|999)\\.{tag}"],
                                  capture_output=True, text=True).stdout.split()
            if not left:
                break
            time.sleep(0.05)
        for pid in left:
            os.kill(int(pid), signal.SIGKILL)
        self.assertEqual(left, [], "sandboxed processes outlived a SIGKILLed nono")
        self.assertIsNone(bystander.poll(), "the teardown reached a process outside")

    FORK_BOMB = """
        import time
        kids, refused = [], 0
        for i in range(200):
            try:
                pid = os.fork()
            except OSError:
                refused += 1
                continue
            if pid == 0:
                time.sleep(5)
                os._exit(0)
            kids.append(pid)
        print("forked", len(kids), flush=True)
        print("refused", refused, flush=True)
        for pid in kids:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    """

    def test_c12_fork_bomb(self):
        prof = os.path.join(self.root, "limits.json")
        self.write(prof, '{"limits": {"max_processes": 50}}')
        v = self.payload(self.FORK_BOMB, "--profile", prof)
        self.assertLessEqual(int(v["forked"]), 50, v)
        self.assertGreater(int(v["refused"]), 100, v)
        # The payload can fail: without the limit every fork succeeds.
        v = self.payload(self.FORK_BOMB)
        self.assertEqual(v, {"forked": "200", "refused": "0"})
        # The host is unaffected: the test user can still start processes outside.
        out = subprocess.run(as_test_user(["/bin/sh", "-c", "/bin/true & wait; echo HOST-OK"]),
                             capture_output=True, text=True)
        self.assertIn("HOST-OK", out.stdout)

    def test_c12_memory_balloon(self):
        balloon = """
            try:
                b = bytearray(400 * 1024 * 1024)
                print("balloon", "GREW", flush=True)
            except MemoryError:
                print("balloon", "STOPPED", flush=True)
        """
        self.assertEqual(self.payload(balloon, "--max-memory", "100")["balloon"], "STOPPED")
        self.assertEqual(self.payload(balloon)["balloon"], "GREW")

    def test_c12_bad_limit(self):
        p = self.nono("run", "--max-processes", "0", "--", "/bin/true")
        self.assertEqual(p.returncode, 1)
        self.assertIn("--max-processes", p.stderr)


class Network(EscapeCase):
    def test_d01_d03_tcp_blocked(self):
        lis = self.listener()
        v = self.payload(f"""
            attempt("tcp", lambda: socket.create_connection(("127.0.0.1", {lis.port}), 2))
            attempt("tcp6-mapped", lambda: socket.create_connection(("::ffff:127.0.0.1", {lis.port}), 2))
        """, *self.block)
        self.assertDenied(v, "tcp", "tcp6-mapped")
        p = self.nono("run", "--allow-cwd", *self.block, "--", "/bin/bash", "-c",
                      f"echo PAYLOAD-RAN; echo hi > /dev/tcp/127.0.0.1/{lis.port} && echo SENT")
        self.assertRan(p)
        self.assertNotIn("SENT", p.stdout)
        time.sleep(0.2)
        self.assertEqual(lis.hits, 0)

    def test_d02_allowed_when_network_is_open(self):
        lis = self.listener()
        v = self.payload(f"""
            attempt("tcp", lambda: socket.create_connection(("127.0.0.1", {lis.port}), 2))
        """)
        self.assertAllowed(v, "tcp")

    def test_d04_d05_fast_open(self):
        lis = self.listener()
        for flags in ((), self.block):
            v = self.payload(f"""
                MSG_FASTOPEN, TCP_FASTOPEN_CONNECT = 0x20000000, 30
                def fastopen():
                    s = socket.socket(); s.sendto(b"x", MSG_FASTOPEN, ("127.0.0.1", {lis.port}))
                def fastopen_connect():
                    s = socket.socket()
                    s.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1)
                attempt("fastopen", fastopen)
                attempt("fastopen-connect", fastopen_connect)
            """, *flags)
            self.assertDenied(v, "fastopen", "fastopen-connect")
        time.sleep(0.2)
        self.assertEqual(lis.hits, 0)

    def test_d06_udp(self):
        lis = self.listener(socket.SOCK_DGRAM)
        v = self.payload(f"""
            def send():
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", {lis.port}))
            attempt("udp", send)
        """, *self.block)
        self.assertDenied(v, "udp")
        time.sleep(0.3)
        self.assertEqual(lis.hits, 0)

    def test_d07_d08_other_families(self):
        v = self.payload("""
            attempt("raw", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
            attempt("packet", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW))
            attempt("ping-dgram", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP))
            attempt("netlink", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0))
            attempt("vsock", lambda: socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM))
            attempt("sctp", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132))
            attempt("mptcp", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262))
            attempt("seqpacket-inet", lambda: socket.socket(socket.AF_INET, socket.SOCK_SEQPACKET))
        """, *self.block)
        self.assertDenied(v, "raw", "packet", "ping-dgram", "netlink", "vsock", "sctp",
                          "mptcp", "seqpacket-inet")

    def test_d09_d10_address_confusion_and_listen(self):
        lis6 = Listener(family=socket.AF_INET6, addr="::1")
        self.addCleanup(lis6.close)
        v = self.payload(f"""
            attempt("ipv6-loopback", lambda: socket.create_connection(("::1", {lis6.port}), 2))
            def unspec():
                s = socket.socket()
                return libc.connect(s.fileno(), (ctypes.c_char * 16)(), 16)
            attempt("connect-unspec", unspec)
            def listen():
                s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
            attempt("listen", listen)
        """, *self.block)
        self.assertDenied(v, "ipv6-loopback", "listen")
        self.assertEqual(lis6.hits, 0)

    def test_d11_io_uring(self):
        v = self.payload("""
            params = ctypes.create_string_buffer(120)
            attempt("io_uring_setup", lambda: libc.syscall(425, 8, params))
        """)
        self.assertDenied(v, "io_uring_setup")


class Ipc(EscapeCase):
    def abstract_listener(self, kind=socket.SOCK_STREAM):
        name = f"\0nono-test-{os.getpid()}-{time.monotonic_ns()}"
        s = socket.socket(socket.AF_UNIX, kind)
        s.bind(name)
        if kind == socket.SOCK_STREAM:
            s.listen(4)
        s.setblocking(False)
        self.addCleanup(s.close)
        return s, name

    def test_e01_e02_abstract_sockets(self):
        stream, sname = self.abstract_listener()
        dgram, dname = self.abstract_listener(socket.SOCK_DGRAM)
        v = self.payload(f"""
            def connect():
                socket.socket(socket.AF_UNIX).connect({sname!r})
            def send():
                socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"x", {dname!r})
            attempt("abstract-connect", connect)
            attempt("abstract-sendto", send)
        """, "--allow-unix-datagrams")  # else socket() refuses the datagram socket first
        self.assertDenied(v, "abstract-connect", "abstract-sendto")
        with self.assertRaises(BlockingIOError):
            stream.accept()
        with self.assertRaises(BlockingIOError):
            dgram.recv(16)

    def test_e03_host_unix_sockets(self):
        self.check_host_unix_sockets("run")

    def test_e03_wrap_host_unix_sockets(self):
        self.check_host_unix_sockets("wrap")

    def check_host_unix_sockets(self, command):
        srv, path = self.host_unix_socket("docker.sock")
        body = f"""
            def connect():
                socket.socket(socket.AF_UNIX).connect({path!r})
            def relative():
                os.chdir({self.out!r}); socket.socket(socket.AF_UNIX).connect("docker.sock")
            def via_symlink():
                os.symlink({path!r}, "link.sock")
                socket.socket(socket.AF_UNIX).connect("link.sock")
            def dgram():
                socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"x", {path!r})
            attempt("connect", connect)
            attempt("via-symlink", via_symlink)
            attempt("relative", relative)
            attempt("sendto", dgram)
        """
        v = self.payload(body, command=command)
        self.assertDenied(v, "connect", "via-symlink", "relative", "sendto")
        with self.assertRaises(BlockingIOError):
            srv.accept()
        # Named on the command line, that one socket is reachable.
        v = self.payload(f"""
            attempt("connect", lambda: socket.socket(socket.AF_UNIX).connect({path!r}))
        """, "--allow-unix-socket", path, command=command)
        self.assertAllowed(v, "connect")
        conn, _ = srv.accept()
        conn.close()

    def test_e04_e06_workspace_sockets_and_socketpair(self):
        self.check_workspace_sockets("run")

    def test_e04_e06_wrap_workspace_sockets_and_socketpair(self):
        self.check_workspace_sockets("wrap")

    def check_workspace_sockets(self, command):
        v = self.payload("""
            def own_socket():
                srv = socket.socket(socket.AF_UNIX); srv.bind("own.sock"); srv.listen(1)
                c = socket.socket(socket.AF_UNIX); c.connect("own.sock")
                conn, _ = srv.accept(); c.send(b"ping"); assert conn.recv(4) == b"ping"
            def pair():
                a, b = socket.socketpair(); a.send(b"x"); assert b.recv(1) == b"x"
            attempt("own-socket", own_socket)
            attempt("socketpair", pair)
        """, *self.block, command=command)
        self.assertAllowed(v, "own-socket", "socketpair")

    def dgram_listener(self):
        """A Unix datagram socket of the host's, outside every grant (like /dev/log)."""
        return self.host_unix_socket("log.sock", socket.SOCK_DGRAM)

    DGRAM_PAYLOAD = """
        AF, DG = socket.AF_UNIX, socket.SOCK_DGRAM
        def sendto():
            socket.socket(AF, DG).sendto(b"sendto", {path!r})
        def flags():
            socket.socket(AF, DG | socket.SOCK_NONBLOCK | socket.SOCK_CLOEXEC)
        def sendmsg():
            socket.socket(AF, DG).sendmsg([b"sendmsg"], [], 0, {path!r})
        def pair_sendmsg():
            a, b = socket.socketpair(AF, DG)
            a.sendmsg([b"pair"], [], 0, {path!r})
        def stream_pair():
            a, b = socket.socketpair(AF, socket.SOCK_STREAM); a.send(b"x"); assert b.recv(1) == b"x"
        attempt("dgram-sendto", sendto)
        attempt("dgram-flags", flags)
        attempt("dgram-sendmsg", sendmsg)
        attempt("dgram-pair-sendmsg", pair_sendmsg)
        attempt("stream-pair", stream_pair)
    """

    def dgram_attempts(self, path, *flags, command="run"):
        """The payload's lines: label -> "OK" or "DENIED <errno>"; and nono's stderr."""
        p = self.nono(command, "--allow-cwd", *flags, "--", SYSTEM_PYTHON, "-c",
                      PRELUDE + textwrap.dedent(self.DGRAM_PAYLOAD.format(path=path)))
        self.assertRan(p)
        return {line.split()[0]: " ".join(line.split()[1:]) for line in p.stdout.splitlines()[1:]
                if line.split()}, p.stderr

    def received(self, srv):
        got = []
        time.sleep(0.2)
        while True:
            try:
                got.append(srv.recv(64))
            except BlockingIOError:
                return got

    def test_e03_e06_unix_datagram_sockets_refused(self):
        """sendmsg() is not mediated: a Unix datagram socket could reach any datagram socket
        on the host, so none can be created (EPERM, reported); stream pairs still work."""
        err = self.check_datagrams_refused("run")
        self.assertIn("refused socket(AF_UNIX, SOCK_DGRAM)", err)
        self.assertIn("refused socketpair(AF_UNIX, SOCK_DGRAM)", err)
        self.assertIn("--allow-unix-datagrams", err)

    def test_e03_e06_wrap_unix_datagram_sockets_refused(self):
        self.check_datagrams_refused("wrap")

    def check_datagrams_refused(self, command):
        srv, path = self.dgram_listener()
        v, err = self.dgram_attempts(path, command=command)
        eperm = f"DENIED {errno.EPERM}"
        self.assertEqual(v, {"dgram-sendto": eperm, "dgram-flags": eperm, "dgram-sendmsg": eperm,
                             "dgram-pair-sendmsg": eperm, "stream-pair": "OK"})
        self.assertEqual(self.received(srv), [])
        return err

    def test_e03_allow_unix_datagrams_gives_up_the_grants(self):
        """The opt-in: sockets are created; sendto is still mediated (EACCES), but sendmsg
        reaches the host's socket -- the documented trade-off."""
        srv, path = self.dgram_listener()
        for command, flags in (("run", ("--allow-unix-datagrams",)),
                               ("run", ("--profile", self.dgram_profile())),
                               ("wrap", ("--allow-unix-datagrams",))):
            v, _ = self.dgram_attempts(path, *flags, command=command)
            self.assertEqual(v, {"dgram-sendto": f"DENIED {errno.EACCES}", "dgram-flags": "OK",
                                 "dgram-sendmsg": "OK", "dgram-pair-sendmsg": "OK",
                                 "stream-pair": "OK"})
            self.assertEqual(sorted(self.received(srv)), [b"pair", b"sendmsg"])

    def dgram_profile(self):
        prof = os.path.join(self.root, "dgram.json")
        self.write(prof, '{"filesystem": {"allow_unix_datagrams": true}}')
        return prof

    def test_e05_documented(self):
        self.skipTest("documented: a socket fd passed in from outside keeps working")

    def test_e07_sysv_ipc_is_private(self):
        made = subprocess.run(["ipcmk", "-M", "4096", "-p", "0666"], capture_output=True,
                              text=True, check=True).stdout
        shmid = int(made.split(":")[1])
        self.addCleanup(subprocess.run, ["ipcrm", "-m", str(shmid)], capture_output=True)
        key = next(int(line.split()[0], 16) for line in
                   subprocess.run(["ipcs", "-m"], capture_output=True, text=True).stdout
                   .splitlines() if line.split()[1:2] == [str(shmid)])
        body = f"""
            libc.shmat.restype = ctypes.c_void_p
            def by_key():
                return libc.shmget({key}, 0, 0)
            def attach():
                r = libc.shmat({shmid}, None, 0)
                return -1 if r in (None, ctypes.c_void_p(-1).value) else 0
            attempt("shmget-key", by_key)
            attempt("shmat-id", attach)
            import subprocess
            listed = subprocess.run(["ipcs", "-m"], capture_output=True, text=True).stdout
            print("ipcs", "HOST-SEGMENT" if "{key:#010x}" in listed else "EMPTY", flush=True)
        """
        # The same payload reaches the segment from outside: the test can fail.
        outside = subprocess.run(as_test_user([SYSTEM_PYTHON, "-c", PRELUDE +
                                               textwrap.dedent(body)]),
                                 capture_output=True, text=True)
        self.assertIn("shmat-id OK", outside.stdout, outside.stderr)
        v = self.payload(body)
        self.assertDenied(v, "shmget-key", "shmat-id")
        self.assertEqual(v.get("ipcs"), "EMPTY", v)


class UnixHelper(EscapeCase):
    """The Unix-socket helper (unixmed.h) is the small executable nono-unix-helper, a child
    of nono in a process group of its own, inside the command's sandbox but not under
    its notification filter."""

    @staticmethod
    def status(pid):
        with open(f"/proc/{pid}/status") as f:
            return dict(line.split(":", 1) for line in f)

    def test_helper_is_its_own_executable_inside_the_sandbox(self):
        lis = self.listener()
        self.give_to_test_user()
        body = PRELUDE + textwrap.dedent(f"""
            attempt("tcp", lambda: socket.create_connection(("127.0.0.1", {lis.port}), 2))
            sys.stdin.readline()
        """)
        nono = subprocess.Popen(
            as_test_user([NONO, "run", "--allow-cwd", *self.block, "--", SYSTEM_PYTHON, "-c",
                          body]),
            cwd=self.ws, env=self.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True)
        self.addCleanup(nono.wait)
        self.addCleanup(nono.kill)
        self.assertEqual(nono.stdout.readline().strip(), "PAYLOAD-RAN")
        # Connected by the helper for the command, refused by Landlock's TCP rules: the
        # helper is in the command's Landlock domain.
        self.assertEqual(nono.stdout.readline().split(), ["tcp", "DENIED", str(errno.EACCES)])
        with open(f"/proc/{nono.pid}/task/{nono.pid}/children") as f:
            kids = [int(pid) for pid in f.read().split()]
        helpers = [pid for pid in kids if os.readlink(f"/proc/{pid}/exe") == HELPER]
        self.assertEqual(len(helpers), 1, kids)
        helper = helpers[0]
        command = next(pid for pid in kids if pid != helper)
        self.assertEqual(os.getpgid(helper), helper)
        self.assertNotEqual(os.getpgid(command), helper)
        mine, its = self.status(helper), self.status(command)
        # The sandbox's seccomp layer and no_new_privs, not the notification filter.
        self.assertEqual(mine["NoNewPrivs"].strip(), "1")
        self.assertEqual(int(mine["Seccomp_filters"]), int(its["Seccomp_filters"]) - 1)
        self.assertEqual(mine["Uid"].split(), its["Uid"].split())
        self.assertEqual(mine["CapEff"].strip(), "0000000000000000")
        # Its one descriptor: the channel to nono.
        fds = [os.readlink(f"/proc/{helper}/fd/{fd}") for fd in os.listdir(f"/proc/{helper}/fd")]
        self.assertEqual(len(fds), 1, fds)
        self.assertTrue(fds[0].startswith("socket:"), fds)
        if TEST_UID >= 0:
            # Not dumpable: its /proc files belong to root, not to the test user.
            self.assertEqual(os.stat(f"/proc/{helper}/fd").st_uid, 0)
        nono.stdin.write("\n")
        nono.stdin.close()
        self.assertEqual(nono.wait(10), 0)
        nono.stdout.close()
        self.assertEqual(lis.hits, 0)


class WrapMediator(EscapeCase):
    """nono wrap serves the Unix-socket filter from a process of its own (unixmed.h):
    never a child of the command, holding none of its pipes, gone with the sandbox."""

    def wrap_argv(self, *command):
        # --workdir names this test's tree, which the mediator's command line names too
        # (an allowed directory).
        return as_test_user([NONO, "wrap", "--workdir", self.ws, "--allow-cwd", "--", *command])

    def leftovers(self):
        """Live (not zombie) processes of the nono under test that name this test's tree
        (nono, its mediator), and its helpers (the tests of this file run one at a
        time)."""
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
                with open(f"/proc/{pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
                with open(f"/proc/{pid}/comm") as f:
                    comm = f.read().strip()
                exe = os.readlink(f"/proc/{pid}/exe")
            except OSError:
                continue
            ours = exe in (os.path.realpath(NONO), MEDIATOR) and self.ws.encode() in argv
            if state != "Z" and (ours or exe == HELPER):
                found.append((int(pid), comm))
        return found

    def assertNoLeftovers(self):
        deadline = time.monotonic() + 5
        while self.leftovers() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.leftovers(), [])

    @staticmethod
    def read(path):
        with open(path) as f:
            return f.read()

    @staticmethod
    def status_field(pid, name):
        with open(f"/proc/{pid}/status") as f:
            return next(line.split()[1] for line in f if line.startswith(name + ":"))

    def test_wrap_mediator_is_nobodys_child_and_holds_nothing(self):
        self.give_to_test_user()
        cmd = subprocess.Popen(self.wrap_argv(
            "/bin/sh", "-c", "read kids < /proc/$$/task/$$/children; echo PAYLOAD-RAN \"$kids\"; "
            "exec sleep 30"), cwd=self.ws, env=self.env(), stdout=subprocess.PIPE, text=True)
        self.addCleanup(cmd.wait)
        self.addCleanup(cmd.kill)
        self.assertEqual(cmd.stdout.readline().strip(), "PAYLOAD-RAN")  # no children
        pipe = os.readlink(f"/proc/{cmd.pid}/fd/1")
        found = dict((comm, pid) for pid, comm in self.leftovers())
        self.assertEqual(sorted(found), ["nono-unixhelper", "nono-unixmed"])
        for pid in found.values():
            self.assertNotEqual(int(self.status_field(pid, "PPid")), cmd.pid)
            self.assertNotEqual(os.getpgid(pid), os.getpgid(cmd.pid))
            fds = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
            self.assertNotIn(pipe, fds)
        mediator = found["nono-unixmed"]
        # The small executables, not copies of nono.
        self.assertEqual(os.readlink(f"/proc/{mediator}/exe"), MEDIATOR)
        self.assertEqual(os.readlink(f"/proc/{found['nono-unixhelper']}/exe"), HELPER)
        self.assertEqual(os.getsid(mediator), mediator)
        self.assertEqual([os.readlink(f"/proc/{mediator}/fd/{fd}") for fd in (0, 1, 2)],
                         ["/dev/null"] * 3)
        self.assertEqual(os.readlink(f"/proc/{mediator}/cwd"), "/")
        cmd.kill()
        cmd.wait()
        cmd.stdout.close()
        self.assertNoLeftovers()

    def test_wrap_background_job_and_pipeline_end(self):
        t0 = time.monotonic()
        p = self.nono("wrap", "--workdir", self.ws, "--allow-cwd", "--", "/bin/sh", "-c",
                      "sleep 0.1 & wait; echo PAYLOAD-RAN", timeout=30)
        self.assertRan(p)
        self.assertLess(time.monotonic() - t0, 5)
        # The pipe ends with the command, not with a job of it that left the pipe alone
        # (and that the mediator still serves).
        line = " ".join(shlex.quote(a) for a in self.wrap_argv(
            "/bin/sh", "-c", "echo PAYLOAD-RAN; sleep 3 >/dev/null 2>&1 &"))
        t0 = time.monotonic()
        p = subprocess.run(["/bin/sh", "-c", line + " | cat"], cwd=self.ws, env=self.env(),
                           capture_output=True, text=True, timeout=30)
        self.assertRan(p)
        self.assertLess(time.monotonic() - t0, 2.5)
        p = subprocess.run(["/bin/sh", "-c", " ".join(map(shlex.quote, self.wrap_argv("true")))
                            + " | cat; echo PAYLOAD-RAN"], cwd=self.ws, env=self.env(),
                           capture_output=True, text=True, timeout=30)
        self.assertRan(p)
        self.assertNoLeftovers()

    def test_e03_wrap_job_outliving_the_command_is_still_mediated(self):
        srv, path = self.host_unix_socket("docker.sock")
        result = os.path.join(self.ws, "result")
        body = PRELUDE + textwrap.dedent(f"""
            import time
            time.sleep(0.5)  # the command has exited by now
            def own():
                srv = socket.socket(socket.AF_UNIX); srv.bind("own.sock"); srv.listen(1)
                socket.socket(socket.AF_UNIX).connect("own.sock")
            attempt("own", own)
            attempt("outside", lambda: socket.socket(socket.AF_UNIX).connect({path!r}))
        """)
        script = os.path.join(self.ws, "job.py")
        self.write(script, body)
        p = self.nono("wrap", "--workdir", self.ws, "--allow-cwd", "--", "/bin/sh", "-c",
                      f"echo PAYLOAD-RAN; {SYSTEM_PYTHON} {script} > {result} 2>&1 &")
        self.assertRan(p)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "outside" not in self.read(result):
            time.sleep(0.05)
        out = self.read(result)
        self.assertIn("own OK", out)  # served after the command exited
        self.assertRegex(out, "outside DENIED")
        with self.assertRaises(BlockingIOError):
            srv.accept()
        self.assertNoLeftovers()


if __name__ == "__main__":
    main()
