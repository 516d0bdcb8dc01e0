MNIST_FILES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]


rule fetch_mnist:
    output:
        expand(f"{DATA}/raw/mnist/{{file}}", file=MNIST_FILES),
    log:
        f"{LOGS}/fetch/mnist.log",
    params:
        dest=f"{DATA}/raw/mnist",
        mirror=(
            f"--mirror {shlex.quote(config['data']['mirror'])}"
            if config["data"].get("mirror")
            else ""
        ),
        network="" if config["data"].get("allow_network", True) else "--no-network",
        retries=config["data"].get("retries", 3),
    retries: 2
    shell:
        "ald fetch --source mnist --dest {params.dest} {params.mirror} {params.network}"
        " --retries {params.retries} > {log} 2>&1"


rule prepare_mnist:
    input:
        rules.fetch_mnist.output,
    output:
        f"{DATA}/prepared/mnist.npz",
    log:
        f"{LOGS}/prepare/mnist.log",
    params:
        raw=f"{DATA}/raw/mnist",
        args=lambda w: quoted_json(config["sources"]["mnist"]),
    shell:
        "ald prepare --source mnist --raw {params.raw} --params {params.args} --out {output} > {log} 2>&1"


rule generate_glyphs:
    output:
        f"{DATA}/prepared/glyphs.npz",
    log:
        f"{LOGS}/prepare/glyphs.log",
    params:
        args=lambda w: quoted_json(config["sources"]["glyphs"]),
    shell:
        "ald prepare --source glyphs --params {params.args} --out {output} > {log} 2>&1"
