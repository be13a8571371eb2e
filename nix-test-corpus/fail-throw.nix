{ a = 1; b = throw "hello from throw"; }
