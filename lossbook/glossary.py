"""Chinese terms of the source notes and the English terms the book uses for them.

The book is written from five Chinese blog posts; readers who know them, or who read other
Chinese material on losses, can look a term up here. The errata appendix prints the table.
"""

from __future__ import annotations

GLOSSARY: dict[str, str] = {
    "损失函数": "loss function",
    "范数": "norm",
    "正则化": "regularisation",
    "稀疏": "sparse, sparsity",
    "离群点": "outlier",
    "鲁棒性": "robustness",
    "均方误差": "mean squared error (MSE)",
    "平均绝对误差": "mean absolute error (MAE)",
    "均方根误差": "root mean squared error (RMSE)",
    "最小化绝对误差": "least absolute errors (LAE)",
    "梯度消失": "vanishing gradient",
    "梯度爆炸": "exploding gradient",
    "激活函数": "activation function",
    "批标准化": "batch normalisation",
    "似然函数": "likelihood function",
    "极大似然估计": "maximum likelihood estimation (MLE)",
    "经验分布": "empirical distribution",
    "信息量": "self-information",
    "信息熵": "entropy",
    "交叉熵": "cross-entropy",
    "相对熵": "relative entropy (KL divergence)",
    "KL散度": "Kullback–Leibler divergence",
    "互信息": "mutual information",
    "焦点损失": "focal loss",
    "困难样本": "hard example",
    "正样本": "positive example",
    "负样本": "negative example",
    "合页损失": "hinge loss",
    "三元组损失": "triplet loss",
    "交并比": "intersection over union (IoU)",
    "感知损失": "perceptual loss",
    "生成对抗网络": "generative adversarial network (GAN)",
    "判别器": "discriminator",
    "生成器": "generator",
    "欧氏距离": "Euclidean distance",
    "曼哈顿距离": "Manhattan distance",
    "切比雪夫距离": "Chebyshev distance",
    "闵式距离": "Minkowski distance",
    "夹角余弦": "cosine of the angle (cosine similarity)",
    "皮尔逊相关系数": "Pearson correlation coefficient",
    "汉明距离": "Hamming distance",
    "全称": "full name",
    "约简": "reduction",
}


def lookup(term: str) -> str:
    """The English term for a Chinese ``term`` of the source notes."""
    try:
        return GLOSSARY[term]
    except KeyError:
        raise KeyError(f"term: {term!r} is not in the glossary") from None


class GlossaryTable:
    """The glossary as a Markdown table (rendered in the book; its text is the Markdown)."""

    def __init__(self, terms: dict[str, str]):
        rows = ["| Chinese | English |", "| --- | --- |"]
        rows += [f"| {chinese} | {english} |" for chinese, english in terms.items()]
        self.text = "\n".join(rows) + "\n"

    def _repr_markdown_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


def table() -> GlossaryTable:
    """The glossary as a two-column table, in the order above."""
    return GlossaryTable(GLOSSARY)
