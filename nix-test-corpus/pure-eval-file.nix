builtins.pathExists /etc/hostname
