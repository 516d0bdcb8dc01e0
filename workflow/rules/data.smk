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
    retries: 2
    conda:
        ENV
    params:
        dest=lambda w, output: os.path.dirname(output[0]),
        mirror=(
            f"--mirror {shlex.quote(config['data']['mirror'])}"
            if config["data"].get("mirror")
            else ""
        ),
        network="" if config["data"].get("allow_network", True) else "--no-network",
        retries=config["data"].get("retries", 3),
    shell:
        "python -m ald.cli fetch --source mnist --dest {params.dest} {params.mirror} {params.network}"
        " --retries {params.retries} > {log} 2>&1"


rule prepare_mnist:
    input:
        rules.fetch_mnist.output,
    output:
        f"{DATA}/prepared/mnist.npz",
    log:
        f"{LOGS}/prepare/mnist.log",
    conda:
        ENV
    resources:
        runtime=per_attempt(15),
        mem_mb=per_attempt(2000),
    params:
        raw=lambda w, input: os.path.dirname(input[0]),
        args=lambda w: quoted_json(config["sources"]["mnist"]),
    shell:
        "python -m ald.cli prepare --source mnist --raw {params.raw} --params {params.args} --out {output} > {log} 2>&1"


rule generate_glyphs:
    output:
        f"{DATA}/prepared/glyphs.npz",
    log:
        f"{LOGS}/prepare/glyphs.log",
    conda:
        ENV
    resources:
        runtime=per_attempt(15),
        mem_mb=per_attempt(2000),
    params:
        args=lambda w: quoted_json(config["sources"]["glyphs"]),
    shell:
        "python -m ald.cli prepare --source glyphs --params {params.args} --out {output} > {log} 2>&1"
