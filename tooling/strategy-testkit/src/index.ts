// Placeholder: the Strategy contract suite lands here.
export {};
