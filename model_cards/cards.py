"""The models we publish: what each card says that the checkpoint itself cannot.

Published CLUE numbers are copied from their sources and always labelled with them (see
../shared/docs/clue_spec.md §5): Su's dev runs from the GAU-α README (= kexue.fm/archives/9052), and JunnYu's
dev runs of his PyTorch ports of the same RoFormerV2 weights; Su's own RoFormerV2 table (kexue.fm/archives/8998)
was not available to us and is not quoted.
"""

from dataclasses import dataclass, field

CLUE_TASKS = {  # task → (task type of the Hub's model-index, metric type, metric name)
    "iflytek": ("text-classification", "accuracy", "Accuracy"),
    "tnews": ("text-classification", "accuracy", "Accuracy"),
    "afqmc": ("text-classification", "accuracy", "Accuracy"),
    "cmnli": ("text-classification", "accuracy", "Accuracy"),
    "ocnli": ("text-classification", "accuracy", "Accuracy"),
    "wsc": ("text-classification", "accuracy", "Accuracy"),
    "csl": ("text-classification", "accuracy", "Accuracy"),
    "cmrc2018": ("question-answering", "accuracy", "Span accuracy (Su)"),
    "c3": ("multiple-choice", "accuracy", "Accuracy"),
    "chid": ("multiple-choice", "accuracy", "Accuracy"),
    "cluener": ("token-classification", "f1", "Entity micro F1"),
}


@dataclass(frozen=True)
class PublishedResults:
    source_name: str
    source_url: str
    scores: dict[str, float]  # CLUE dev, in percent


@dataclass(frozen=True)
class CardSpec:
    title: str
    model_type: str
    shape: dict  # config values that identify the published checkpoint
    summary_zh: str
    summary_en: str
    original_source: str
    release: str
    citation: str
    pipeline_tag: str = "fill-mask"
    tags: tuple[str, ...] = ("chinese", "clue")
    published: tuple[PublishedResults, ...] = field(default=())
    widget: str | None = "今天[MASK]很好，我想去公园玩。"
    license_note: str = (
        "The original release states no license (its repository has none and its README names none): ask the "
        "authors before any use their terms might not cover. This conversion adds no terms of its own."
    )
    evaluated_on_clue: bool = True


ROFORMER_V2_CITATION = """@techreport{roformerv2,
  title={RoFormerV2: A Faster and Better RoFormer - ZhuiyiAI},
  author={Jianlin Su},
  year={2022},
  url="https://github.com/ZhuiyiTechnology/roformer-v2",
}"""
GAU_ALPHA_CITATION = """@techreport{gau-alpha,
  title={GAU-α: GAU-based Transformers for NLP - ZhuiyiAI},
  author={Jianlin Su, Shengfeng Pan, Bo Wen, Yunfeng Liu},
  year={2022},
  url="https://github.com/ZhuiyiTechnology/GAU-alpha",
}"""
TRANSFORMER_VQ_CITATION = """@inproceedings{lingle2024transformervq,
  title={Transformer-VQ: Linear-Time Transformers via Vector Quantization},
  author={Lucas D. Lingle},
  booktitle={The Twelfth International Conference on Learning Representations},
  year={2024},
  url={https://arxiv.org/abs/2309.16354},
}"""
JUNNYU_SOURCE = (
    "JunnYu/RoFormer_pytorch README (his PyTorch port, CLUE dev)",
    "https://github.com/JunnYu/RoFormer_pytorch",
)
ROFORMER_V2_ZH = (
    "RoFormerV2：去掉偏置与归一化参数、后归一化的旋转位置编码 BERT，"
    "苏剑林（追一科技）以 bert4keras 发布的中文字级模型。"
)
ROFORMER_V2_EN = (
    "RoFormerV2: a post-norm BERT with rotary positions and no biases or norm parameters, released by Su Jianlin "
    "(ZhuiyiAI) as Chinese character-level bert4keras checkpoints."
)


SU_SOURCE = (
    "Su Jianlin, GAU-α README = kexue.fm/archives/9052 (CLUE dev)",
    "https://github.com/ZhuiyiTechnology/GAU-alpha",
)
# The GAU-α post's table: base models fine-tuned by Su under one protocol. cmrc2018 is his span accuracy,
# cluener micro F1, chid Hungarian-decoded accuracy (docs: clue_spec.md §5.1).
SU_CLUE_DEV = {
    name: PublishedResults(*SU_SOURCE, dict(zip(CLUE_TASKS, scores, strict=True)))
    for name, scores in {
        "BERT": (60.06, 56.80, 72.41, 79.56, 73.93, 78.62, 83.93, 56.17, 60.54, 85.69, 79.45),
        "RoBERTa": (60.64, 58.06, 74.05, 81.24, 76.00, 87.50, 84.50, 56.54, 67.66, 86.71, 79.47),
        "RoFormer": (60.91, 57.54, 73.52, 80.92, 76.07, 86.84, 84.63, 56.26, 67.24, 86.57, 79.72),
        "RoFormerV2* (MLM only, unreleased)": (
            60.87,
            56.54,
            72.75,
            80.34,
            75.36,
            80.92,
            84.67,
            57.91,
            64.62,
            85.09,
            81.08,
        ),
        "GAU-α": (61.41, 57.76, 74.17, 81.82, 75.86, 79.93, 85.67, 58.09, 68.24, 87.91, 80.01),
    }.items()
}


def roformer_v2(size: str, shape: dict, published: tuple[PublishedResults, ...] = ()) -> CardSpec:
    return CardSpec(
        title=f"RoFormerV2 chinese char {size}",
        model_type="roformer_v2",
        shape=shape,
        summary_zh=ROFORMER_V2_ZH,
        summary_en=ROFORMER_V2_EN,
        original_source="https://github.com/ZhuiyiTechnology/roformer-v2",
        release=f"chinese_roformer-v2-char_L-{shape['num_hidden_layers']}_H-{shape['hidden_size']}_A-"
        f"{shape['num_attention_heads']} (bert4keras, https://kexue.fm/archives/8998)",
        citation=ROFORMER_V2_CITATION,
        tags=("chinese", "clue", "roformer-v2"),
        published=published,
    )


CARDS = {
    "roformer_v2_chinese_char_small": roformer_v2(
        "small", {"hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 6}
    ),
    "roformer_v2_chinese_char_base": roformer_v2(
        "base",
        {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12},
        (
            PublishedResults(
                *JUNNYU_SOURCE,
                {
                    "iflytek": 62.87,
                    "tnews": 59.03,
                    "afqmc": 76.20,
                    "cmnli": 80.85,
                    "ocnli": 79.73,
                    "wsc": 87.82,
                    "csl": 91.87,
                },
            ),
        ),
    ),
    "roformer_v2_chinese_char_large": roformer_v2(
        "large",
        {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16},
        (
            PublishedResults(
                *JUNNYU_SOURCE,
                {
                    "iflytek": 61.75,
                    "tnews": 59.21,
                    "afqmc": 76.14,
                    "cmnli": 82.35,
                    "ocnli": 81.73,
                    "wsc": 91.45,
                    "csl": 91.5,
                },
            ),
        ),
    ),
    "gau_alpha_chinese_char_base": CardSpec(
        title="GAU-α chinese char base",
        model_type="gau_alpha",
        shape={"hidden_size": 768, "num_hidden_layers": 24},
        summary_zh="GAU-α：基于门控注意力单元（GAU）的 Transformer，24 层、隐藏维度 768 的中文字级模型（追一科技）。",
        summary_en="GAU-α: a Transformer of Gated Attention Units, 24 layers, hidden size 768, Chinese characters "
        "(ZhuiyiAI).",
        original_source="https://github.com/ZhuiyiTechnology/GAU-alpha",
        release="chinese_GAU-alpha-char_L-24_H-768 (bert4keras, https://kexue.fm/archives/9052)",
        citation=GAU_ALPHA_CITATION,
        tags=("chinese", "clue", "gau-alpha"),
        published=(SU_CLUE_DEV["GAU-α"],),
    ),
    "transformer_vq": CardSpec(
        title="Transformer-VQ",
        model_type="transformer_vq",
        shape={},
        summary_zh="Transformer-VQ：键向量量化的线性时间因果解码器（Lingle, ICLR 2024）。",
        summary_en="Transformer-VQ: a linear-time causal decoder with vector-quantized keys (Lingle, ICLR 2024). "
        "No trained weights were published; this card describes a checkpoint trained with the official code.",
        original_source="https://github.com/transformer-vq/transformer_vq",
        release="a checkpoint written by the official JAX code (no weights were published)",
        citation=TRANSFORMER_VQ_CITATION,
        pipeline_tag="text-generation",
        tags=("transformer-vq", "linear-attention"),
        widget=None,
        license_note="The weights are those of whoever trained the checkpoint, under their terms; the official "
        "code that trained them is transformer-vq/transformer_vq.",
        evaluated_on_clue=False,
    ),
}
GENERIC = {"roformer_v2": "RoFormerV2", "gau_alpha": "GAU-α", "transformer_vq": "Transformer-VQ"}
