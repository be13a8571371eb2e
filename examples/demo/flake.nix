# The demo for the README: one small NixOS machine and a package, on nixpkgs 20.09.
#
#   rnix-eval ./examples/demo#nixosConfigurations.demo
#
# prints the .drv path of the machine's system closure (`config.system.build.toplevel`).
# Offline, against the nixpkgs tree in ../shared:
#
#   rnix-eval ./examples/demo#nixosConfigurations.demo \
#     --override-input nixpkgs path:../shared/nixpkgs/nixos-20.09 --no-write-lock-file
{
  description = "rnix-eval demo: a NixOS machine and a package";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-20.09";

  outputs = { self, nixpkgs }:
    let
      system = "x86_64-linux";
      pkgs = nixpkgs.legacyPackages.${system};
    in
    {
      packages.${system}.motd = pkgs.writeText "motd" "Welcome to the rnix-eval demo\n";

      nixosConfigurations.demo = nixpkgs.lib.nixosSystem {
        inherit system;
        modules = [
          ({ pkgs, ... }: {
            boot.loader.grub.device = "/dev/sda";
            fileSystems."/" = { device = "/dev/sda1"; fsType = "ext4"; };
            networking.hostName = "demo";
            services.openssh.enable = true;
            users.motd = "Welcome to the rnix-eval demo";
            environment.systemPackages = [ pkgs.git ];
          })
        ];
      };
    };
}
