# NixOS 18.03 config that reaches a file the trimmed tree lacks (X11); see ../../README.md
{ ... }: { boot.loader.grub.device = "/dev/vda"; fileSystems."/".device = "/dev/vda1"; services.xserver.enable = true; }
