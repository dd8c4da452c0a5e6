"""A fast tokenizer that reproduces bert4keras' `Tokenizer(vocab, do_lower_case=True)` (bert4keras/tokenizers.py).

The published RoFormerV2 and GAU-α models were trained on its output. transformers' `BertTokenizer` is close but
differs at the edges, each handled here:
- bert4keras lowercases, then NFD, then drops only `Mn` marks; it deletes `Cc`/`Cf` characters (HF: every `C*`).
- A word longer than 200 characters becomes [UNK] (HF: 100).
- Pair truncation pops from the longer segment and, on a tie, from the *first* one (`truncate_sequences`
  uses argmax; HF's longest-first trims the second).
- Python's `str.lower` turns a word-final Σ into ς; tokenizers lowercases character by character.
Special tokens typed in the text (e.g. "[MASK]") are recognised, as in every HF tokenizer, so that pipelines
such as `fill-mask` work; bert4keras would split them into "[", "mask", "]".
"""

import os
import re
import unicodedata

from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import WordPiece
from transformers.tokenization_utils_base import TruncationStrategy
from transformers.tokenization_utils_tokenizers import TokenizersBackend

# bert4keras `Tokenizer._is_cjk_character`.
CJK_RANGES = (
    "\u4e00-\u9fff\u3400-\u4dbf\U00020000-\U0002a6df\U0002a700-\U0002b73f"
    "\U0002b740-\U0002b81f\U0002b820-\U0002ceaf\uf900-\ufaff\U0002f800-\U0002fa1f"
)
# bert4keras `Tokenizer._is_punctuation`: ASCII symbol ranges and every Unicode `P*` category.
PUNCTUATION = r"\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e\p{P}"
CASED = r"[\p{Lu}\p{Ll}\p{Lt}]"
# bert4keras `Tokenizer._cjk_punctuation()` plus the symbols its `decode` glues to the next token.
GLUED_PUNCTUATION = (
    "＂＃＄％＆＇（）＊＋，－／：；＜＝＞＠［＼］＾＿｀｛｜｝～｟｠｢｣､\u3000、〃〈〉《》「」『』【】〔〕〖〗〘〙〚〛〜〝〞〟〰〾〿–—‘’‛“”„‟…‧﹏﹑﹔·！？｡。"
    "+-/={(<["
)


def is_cjk(char: str) -> bool:
    return re.fullmatch(f"[{CJK_RANGES}]", char) is not None


def is_punctuation(char: str) -> bool:
    code = ord(char)
    return (
        33 <= code <= 47
        or 58 <= code <= 64
        or 91 <= code <= 96
        or 123 <= code <= 126
        or (unicodedata.category(char).startswith("P"))
    )


def join_tokens(tokens: list[str]) -> str:
    """bert4keras `Tokenizer.decode`: CJK characters joined without spaces, word pieces merged, spaces
    after punctuation except the CJK punctuation and opening symbols, "it ' s" → "it's", "3. 5" → "3.5"."""
    text = ""
    for index, token in enumerate(tokens):
        if token.startswith("##"):
            text += token[2:]
        elif len(token) == 1 and is_cjk(token):
            text += token
        elif len(token) == 1 and is_punctuation(token):
            text += token + " "
        elif index > 0 and text and is_cjk(text[-1]):
            text += token
        else:
            text += " " + token
    text = re.sub(" +", " ", text)
    text = re.sub("' (re|m|s|t|ve|d|ll) ", "'\\1 ", text)
    text = re.sub(f"({'|'.join(re.escape(char) for char in GLUED_PUNCTUATION)}) ", "\\1", text)
    text = re.sub(r"(\d\.) (\d)", "\\1\\2", text)
    return text.strip()


def load_vocab(path: str | os.PathLike) -> dict[str, int]:
    """bert4keras `load_vocab`: the first whitespace-separated field of each line, ids in line order."""
    vocab: dict[str, int] = {}
    try:
        with open(path, encoding="utf-8") as file:
            for line in file:
                fields = line.split()
                vocab[fields[0] if fields else line.strip()] = len(vocab)
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: vocabulary is not UTF-8 text ({error})") from error
    return vocab


def bert4keras_pipeline(vocab: dict[str, int], unk_token: str, do_lower_case: bool, word_maxlen: int) -> Tokenizer:
    """Normalizer, pre-tokenizer and WordPiece model equal to bert4keras' `Tokenizer._tokenize`."""
    tokenizer = Tokenizer(WordPiece(vocab, unk_token=unk_token, max_input_chars_per_word=word_maxlen))
    lowercase = [
        normalizers.Replace(Regex(rf"(?<={CASED})Σ(?!{CASED})"), "ς"),  # str.lower's final sigma
        normalizers.Lowercase(),
        normalizers.NFD(),
        normalizers.Replace(Regex(r"\p{Mn}"), ""),
    ]
    tokenizer.normalizer = normalizers.Sequence(
        [
            *(lowercase if do_lower_case else []),
            normalizers.Replace(Regex(r"[\t\n\r\p{Zs}]"), " "),
            normalizers.Replace(Regex(r"[\x00\x{fffd}\p{Cc}\p{Cf}]"), ""),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(" +"), behavior="removed"),
            pre_tokenizers.Split(Regex(f"[{CJK_RANGES}{PUNCTUATION}]"), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    return tokenizer


def bert4keras_pair_lengths(first: int, second: int, budget: int) -> tuple[int, int]:
    """Lengths bert4keras' `truncate_sequences` leaves: pop from the longer segment, from the first on a tie."""
    if first + second <= budget:
        return first, second
    kept_first = min(first, max(budget // 2, budget - second))
    return kept_first, budget - kept_first


class Bert4KerasTokenizer(TokenizersBackend):
    r"""
    Char-level Chinese tokenizer of the bert4keras releases (RoFormerV2, GAU-α), backed by 🤗 tokenizers.

    Args:
        vocab: path of a `vocab.txt` or a token → id dict.
        do_lower_case: lowercase and strip accents, as every Zhuiyi script does.
        word_maxlen: words longer than this become [UNK] (bert4keras' default, 200).
        zero_token_type_ids: give both segments of a pair token type 0, as Su's CLUE fine-tuning does;
            by default pairs get 0 then 1, as `bert4keras.Tokenizer.encode`.
    """

    vocab_files_names = {"vocab_file": "vocab.txt", "tokenizer_file": "tokenizer.json"}
    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]
    model = WordPiece

    def __init__(
        self,
        vocab: str | dict[str, int] | None = None,
        do_lower_case: bool = True,
        word_maxlen: int = 200,
        zero_token_type_ids: bool = False,
        unk_token: str = "[UNK]",
        sep_token: str = "[SEP]",
        pad_token: str = "[PAD]",
        cls_token: str = "[CLS]",
        mask_token: str = "[MASK]",
        **kwargs,
    ):
        if vocab is None:
            vocab = {pad_token: 0, unk_token: 1, cls_token: 2, sep_token: 3, mask_token: 4}
        elif not isinstance(vocab, dict):
            vocab = load_vocab(vocab)
        special = {
            "unk_token": unk_token,
            "sep_token": sep_token,
            "pad_token": pad_token,
            "cls_token": cls_token,
            "mask_token": mask_token,
        }
        for name, token in special.items():
            if str(token) not in vocab:
                raise ValueError(f"Bert4KerasTokenizer: {name} {str(token)!r} is not in the vocabulary")
        self.do_lower_case = do_lower_case
        self.word_maxlen = word_maxlen
        self.zero_token_type_ids = zero_token_type_ids
        self._tokenizer = bert4keras_pipeline(vocab, str(unk_token), do_lower_case, word_maxlen)
        super().__init__(
            do_lower_case=do_lower_case,
            word_maxlen=word_maxlen,
            zero_token_type_ids=zero_token_type_ids,
            unk_token=unk_token,
            sep_token=sep_token,
            pad_token=pad_token,
            cls_token=cls_token,
            mask_token=mask_token,
            **kwargs,
        )
        second_type = 0 if zero_token_type_ids else 1
        cls, sep = str(self.cls_token), str(self.sep_token)
        self._tokenizer.post_processor = processors.TemplateProcessing(
            single=f"{cls}:0 $A:0 {sep}:0",
            pair=f"{cls}:0 $A:0 {sep}:0 $B:{second_type} {sep}:{second_type}",
            special_tokens=[(cls, self.cls_token_id), (sep, self.sep_token_id)],
        )

    def _decode(
        self, token_ids, skip_special_tokens: bool = False, clean_up_tokenization_spaces=None, **kwargs
    ) -> str:
        """Text as bert4keras' `decode` writes it: no spaces between Chinese characters."""
        if isinstance(token_ids, int):
            token_ids = [token_ids]
        tokens = self.convert_ids_to_tokens(list(token_ids), skip_special_tokens=skip_special_tokens)
        return join_tokens(tokens)

    def _encode_plus(
        self,
        text,
        text_pair=None,
        add_special_tokens=True,
        truncation_strategy=TruncationStrategy.DO_NOT_TRUNCATE,
        max_length=None,
        return_overflowing_tokens=False,
        **kwargs,
    ):
        """Apply bert4keras' pair truncation before encoding; everything else is TokenizersBackend's."""
        if (
            text_pair is not None
            and truncation_strategy == TruncationStrategy.LONGEST_FIRST
            and max_length is not None
            and not return_overflowing_tokens
            and not kwargs.get("is_split_into_words")
        ):
            budget = max_length - (self.num_special_tokens_to_add(pair=True) if add_special_tokens else 0)
            batched = isinstance(text, (list, tuple))
            firsts, seconds = (list(text), list(text_pair)) if batched else ([text], [text_pair])
            cut = [self._truncate_pair(first, second, budget) for first, second in zip(firsts, seconds, strict=True)]
            text, text_pair = ([c[0] for c in cut], [c[1] for c in cut]) if batched else cut[0]
        return super()._encode_plus(
            text,
            text_pair,
            add_special_tokens=add_special_tokens,
            truncation_strategy=truncation_strategy,
            max_length=max_length,
            return_overflowing_tokens=return_overflowing_tokens,
            **kwargs,
        )

    def _truncate_pair(self, first: str, second: str, budget: int) -> tuple[str, str]:
        """Cut both texts after the tokens bert4keras keeps.

        Cutting a text right after a token re-tokenizes to the same tokens, because WordPiece is a greedy
        longest match: the kept prefix of a word matched first, and nothing longer matched.
        """
        backend = self._tokenizer
        truncation, padding = backend.truncation, backend.padding
        backend.no_truncation()
        backend.no_padding()
        try:
            encodings = backend.encode_batch([first, second], add_special_tokens=False)
        finally:
            if truncation is not None:
                backend.enable_truncation(**truncation)
            if padding is not None:
                backend.enable_padding(**padding)
        kept = bert4keras_pair_lengths(len(encodings[0].ids), len(encodings[1].ids), budget)
        return tuple(
            text if keep == len(encoding.ids) else text[: encoding.offsets[keep - 1][1]] if keep else ""
            for text, encoding, keep in zip((first, second), encodings, kept, strict=True)
        )


__all__ = ["Bert4KerasTokenizer"]
