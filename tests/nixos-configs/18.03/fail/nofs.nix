# NixOS 18.03 config that the reference rejects (an assertion); see ../../README.md
{ ... }: { boot.loader.grub.device = "/dev/vda"; }
