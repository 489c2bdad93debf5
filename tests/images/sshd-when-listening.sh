#!/bin/sh
# /usr/sbin/sshd of adze-test/debian-ash (tests/setup-docker.sh), which stands in for
# alpine/git. OpenSSH's sshd forks into the background before it listens, so a script that
# says "ready" as soon as `sshd` returns (the sidecar of Tekton's authenticating-git-commands
# example) races its first client, and loses under load. This one returns once port 22
# listens (or after 5 s), which is what the example assumes.
/usr/sbin/sshd.openssh "$@" || exit
for _ in $(seq 50); do
  grep -Eq ':0016 0+:0000 0A' /proc/net/tcp /proc/net/tcp6 2>/dev/null && exit 0
  sleep 0.1
done
