export const Query = {
    visitor: (_root, { id }, { visitors }) => visitors.load(id),
    visitors: (_root, { ids }, { visitors }) => visitors.loadMany(ids),
};
//# sourceMappingURL=Query.js.map